//! `/player` and `/queue`: a sticky "now playing" view (`LiveRender::sticky`). Both pages (two
//! views) render it with the same id through a shared layout function; it is joined as a root
//! view of its own, so live navigation between the pages (a `data-phx-link="redirect"` link
//! mounts the other page's view) keeps it playing with its state: the track and the elapsed
//! time go on.

use std::time::Duration;

use liveview_core::{
    html, LiveRender, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult,
};
use serde::Deserialize;

const ALBUM: (&str, &[&str]) = (
    "Kind of Blue",
    &[
        "So What",
        "Freddie Freeloader",
        "Blue in Green",
        "All Blues",
        "Flamenco Sketches",
    ],
);

const PLAYLIST: &[&str] = &[
    "So What",
    "Giant Steps",
    "Blue in Green",
    "Naima",
    "Countdown",
];

/// What both pages share around their content (Phoenix's app layout): the navigation and the
/// sticky player, rendered with the same id on every page so it survives live navigation.
fn player_layout(meta: &Meta<'_>, content: Rendered) -> Rendered {
    html! {
        nav.player-nav {
            a #to-album href="/player" data-phx-link="redirect" data-phx-link-state="push" { "Album" }
            " · "
            a #to-queue href="/queue" data-phx-link="redirect" data-phx-link-state="push" { "Queue" }
            " · "
            a href="/" { "All examples" }
        }
        (content)
        (meta.live_render::<NowPlaying>(LiveRender::new("now-playing").sticky(true)))
    }
}

/// `/player`: an album page; it renders the sticky player.
#[derive(Debug, Default)]
pub struct AlbumPage;

impl LiveView for AlbumPage {
    type State = ();
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title(ALBUM.0);
        Ok(())
    }

    fn render(&self, _state: &(), meta: &Meta<'_>) -> Rendered {
        let (title, tracks) = ALBUM;
        player_layout(
            meta,
            html! {
                h1 #page-title { (title) }
                ol.tracks {
                    @for track in tracks.iter() { li { (*track) } }
                }
            },
        )
    }
}

/// `/queue`: the play queue, another view; it renders the same sticky player.
#[derive(Debug, Default)]
pub struct QueuePage;

/// The queue page's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueEvent {
    /// Back to the album, by a server-side `push_redirect`.
    BackToAlbum,
}

impl LiveView for QueuePage {
    type State = ();
    type Event = QueueEvent;
    type Info = ();

    async fn handle_event(&self, socket: &mut Socket<Self>, event: QueueEvent) -> ViewResult {
        let QueueEvent::BackToAlbum = event;
        socket.push_redirect("/player", false);
        Ok(())
    }

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Queue");
        Ok(())
    }

    fn render(&self, _state: &(), meta: &Meta<'_>) -> Rendered {
        player_layout(
            meta,
            html! {
                h1 #page-title { "Queue" }
                ol.queue {
                    @for track in PLAYLIST.iter() { li { (*track) } }
                }
                button #back-to-album phx-click="back-to-album" { "Back to the album (push_redirect)" }
            },
        )
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
