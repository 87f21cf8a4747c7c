//! Demo data: a project, an item with a `visual` asset and a clip job with a `visual` mosaic,
//! so a person can try any client against a fresh server in a minute.

use super::records::DemoIds;
use super::state::DevState;
use std::io;

const PROJECT_ID: &str = "prj_demo";
const ITEM_ID: &str = "itm_demo";
const CLIP_JOB_ID: &str = "clip_demo";
const VISUAL: &str = "visual";
const TIFF: &str = "image/tiff";

impl DevState {
    /// Creates the demo project `prj_demo`, item `itm_demo` with a `visual` asset, and clip job
    /// `clip_demo` with a `visual` mosaic (each a small valid RGB TIFF). Idempotent.
    pub fn seed_demo(&self) -> io::Result<DemoIds> {
        let image = gradient_tiff(64, 64);
        self.add_project(PROJECT_ID);
        self.add_item(ITEM_ID, PROJECT_ID, VISUAL, &image, TIFF)?;
        self.add_clip_job(
            CLIP_JOB_ID,
            &[(VISUAL, "clip_demo_visual.tif", &image, TIFF)],
        )?;
        Ok(DemoIds {
            project_id: PROJECT_ID.into(),
            item_id: ITEM_ID.into(),
            asset_key: VISUAL.into(),
            clip_job_id: CLIP_JOB_ID.into(),
            mosaic_type: VISUAL.into(),
        })
    }
}

/// An uncompressed 8-bit RGB baseline TIFF with a red/green gradient.
fn gradient_tiff(width: u16, height: u16) -> Vec<u8> {
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ENTRIES: u16 = 10;
    let pixels = u32::from(width) * u32::from(height) * 3;
    let ifd_len = 2 + u32::from(ENTRIES) * 12 + 4;
    let bits_at = 8 + ifd_len;
    let data_at = bits_at + 6;

    let mut out = Vec::with_capacity(data_at as usize + pixels as usize);
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&ENTRIES.to_le_bytes());
    let mut entry = |tag: u16, kind: u16, count: u32, value: u32| {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    };
    entry(256, SHORT, 1, u32::from(width));
    entry(257, SHORT, 1, u32::from(height));
    entry(258, SHORT, 3, bits_at);
    entry(259, SHORT, 1, 1);
    entry(262, SHORT, 1, 2);
    entry(273, LONG, 1, data_at);
    entry(277, SHORT, 1, 3);
    entry(278, SHORT, 1, u32::from(height));
    entry(279, LONG, 1, pixels);
    entry(284, SHORT, 1, 1);
    out.extend_from_slice(&0u32.to_le_bytes());
    for _ in 0..3 {
        out.extend_from_slice(&8u16.to_le_bytes());
    }
    for y in 0..height {
        for x in 0..width {
            let scale = |v: u16, max: u16| (u32::from(v) * 255 / u32::from(max.max(2) - 1)) as u8;
            out.extend_from_slice(&[scale(x, width), scale(y, height), 128]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiff_header_and_size_are_consistent() {
        let tiff = gradient_tiff(4, 2);
        assert_eq!(&tiff[..4], b"II*\0");
        let data_at = u32::from_le_bytes([
            tiff[8 + 2 + 5 * 12 + 8],
            tiff[8 + 2 + 5 * 12 + 9],
            tiff[8 + 2 + 5 * 12 + 10],
            tiff[8 + 2 + 5 * 12 + 11],
        ]);
        assert_eq!(tiff.len(), data_at as usize + 4 * 2 * 3);
        assert_eq!(&tiff[data_at as usize..data_at as usize + 3], &[0, 0, 128]);
        assert_eq!(&tiff[tiff.len() - 3..], &[255, 255, 128]);
    }
}
