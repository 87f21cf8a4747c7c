//! `client.items().asset().download(..)`: the `items.asset.download` operation.

use crate::fluent::request::{IntoInput, Request};
use crate::models::AssetDownloadInput;
use crate::{Geopera, ops};

/// The `items.*` namespace of a [`Geopera`] client.
#[derive(Debug, Clone, Copy)]
pub struct Items<'a> {
    pub(crate) geopera: &'a Geopera,
}

impl<'a> Items<'a> {
    /// The `items.asset.*` namespace.
    pub fn asset(self) -> ItemsAsset<'a> {
        ItemsAsset {
            geopera: self.geopera,
        }
    }
}

/// The `items.asset.*` namespace.
#[derive(Debug, Clone, Copy)]
pub struct ItemsAsset<'a> {
    geopera: &'a Geopera,
}

impl<'a> ItemsAsset<'a> {
    /// `items.asset.download`: a [`Descriptor`](crate::models::Descriptor), the JSON
    /// descriptor with a short-lived signed URL (normally in `url`; read it with
    /// `url()`). Printing the descriptor hides the URL's query; fetching the URL is
    /// metered as egress.
    pub fn download(
        self,
        body: impl IntoInput<AssetDownloadInput>,
    ) -> Request<'a, ops::ItemsAssetDownload> {
        Request::new(&self.geopera.client, body)
    }
}
