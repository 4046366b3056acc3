//! `/player/:album`: a sticky "now playing" view (`LiveRender::sticky`). Both album pages
//! render it with the same id; it is joined as a root view of its own, so live navigation
//! between the pages (a `data-phx-link="redirect"` link mounts the other page's view) keeps
//! it playing with its state: the track and the elapsed time go on.

use std::time::Duration;

use liveview_core::{
    html, LiveRender, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult,
};
use serde::Deserialize;

const ALBUMS: &[(&str, &str, &[&str])] = &[
    (
        "blue",
        "Kind of Blue",
        &["So What", "Freddie Freeloader", "Blue in Green"],
    ),
    (
        "giant",
        "Giant Steps",
        &["Giant Steps", "Cousin Mary", "Countdown"],
    ),
];

const PLAYLIST: &[&str] = &[
    "So What",
    "Giant Steps",
    "Blue in Green",
    "Naima",
    "Countdown",
];

/// An album page; it renders the sticky player.
#[derive(Debug, Default)]
pub struct AlbumPage;

/// The album shown.
#[derive(Debug, Default)]
pub struct AlbumState {
    album: usize,
}

impl LiveView for AlbumPage {
    type State = AlbumState;
    type Event = ();
    type Info = ();

    async fn handle_params(
        &self,
        socket: &mut Socket<Self>,
        _: &liveview_core::Url,
        params: &Params,
    ) -> ViewResult {
        let album = ALBUMS
            .iter()
            .position(|(slug, _, _)| Some(*slug) == params.get("album"))
            .unwrap_or(0);
        socket.page_title(ALBUMS[album].1);
        socket.assign(|state| state.album = album);
        Ok(())
    }

    fn render(&self, state: &AlbumState, meta: &Meta<'_>) -> Rendered {
        let (_, title, tracks) = ALBUMS[state.album];
        let (other_slug, other_title, _) = ALBUMS[(state.album + 1) % ALBUMS.len()];
        html! {
            h1 #album-title { (title) }
            ol.tracks {
                @for track in tracks.iter() { li { (*track) } }
            }
            p {
                a #other-album href=(format!("/player/{other_slug}")) data-phx-link="redirect" data-phx-link-state="push" {
                    "Go to " (other_title)
                }
                " · "
                a href="/" { "All examples" }
            }
            (meta.live_render::<NowPlaying>(LiveRender::new("now-playing").sticky(true)))
        }
    }
}

/// The sticky player.
#[derive(Debug, Default)]
pub struct NowPlaying;

/// What plays.
#[derive(Debug, Default)]
pub struct PlayerState {
    track: usize,
    elapsed: u64,
}

/// The player's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlayerEvent {
    /// Skip to the next track.
    Next,
}

impl LiveView for NowPlaying {
    type State = PlayerState;
    type Event = PlayerEvent;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.repeat(Duration::from_secs(1), || ());
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: PlayerEvent) -> ViewResult {
        let PlayerEvent::Next = event;
        socket.assign(|state| {
            state.track = (state.track + 1) % PLAYLIST.len();
            state.elapsed = 0;
        });
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, _: ()) -> ViewResult {
        socket.assign(|state| state.elapsed += 1);
        Ok(())
    }

    fn render(&self, state: &PlayerState, _meta: &Meta<'_>) -> Rendered {
        html! {
            aside.now-playing {
                strong { "Now playing: " }
                span #track { (PLAYLIST[state.track]) }
                " · "
                span #elapsed { (state.elapsed) } " s "
                button #next-track phx-click="next" { "Next track" }
            }
        }
    }
}
