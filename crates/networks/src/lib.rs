//! Dialoog's connectors: one contract ([`contract::Connector`]) for every
//! network, and a module per network speaking its real wire format.
//!
//! Connectors do no storage and know nothing of HTTP handlers: they turn a
//! network's answers into [`contract::InboundItem`]s and a network's
//! failures into a classified [`contract::ConnectorError`]. Every base URL is
//! configurable, so tests point them at loopback servers.

pub mod any;
pub mod bluesky;
pub mod contract;
pub mod email;
pub mod feed;
pub mod html;
pub mod http;
pub mod length;
pub mod listen;
pub mod mastodon;
pub mod remote_image;
#[cfg(feature = "testing")]
pub mod testing;
pub mod utm;
pub mod webhook;
pub mod wordpress;

pub use any::AnyConnector;
pub use contract::{
    Author, Connector, ConnectorError, Fetched, Image, InboundItem, ItemKind, Media, Metrics,
    Outgoing, Published, ReplyTo, Rules, Visibility,
};
