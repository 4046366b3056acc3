//! `/volunteers`: a validated sign-up form (LiveViewJS's volunteers example).
//!
//! The form is a [`Form`] changeset: `phx-change` validates as the user types and shows the
//! errors of the inputs they have used only; `phx-submit` shows every error. Rules are garde's,
//! through [`garde_errors`]. Saved volunteers are broadcast on pub/sub, so every tab (on every
//! node) prepends them; the list is a `temp_assign` in a `phx-update="prepend"` container, so
//! a view holds only what it has not rendered yet. A node keeps the latest [`KEEP`] volunteers.

use std::sync::{Arc, Mutex, PoisonError};

use liveview_core::form::{
    error_tag, garde_errors, label, select, submit_button, tel_input, text_input, Errors, Form,
    FormParams, Validate,
};
use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::{Deserialize, Serialize};

/// The pub/sub topic of new volunteers.
pub const TOPIC: &str = "volunteers";

/// How many volunteers a node keeps (the oldest are forgotten first).
pub const KEEP: usize = 100;

/// The shifts a volunteer can pick, as `(label, value)`.
const SHIFTS: &[(&str, &str)] = &[
    ("Morning (8–12)", "morning"),
    ("Afternoon (12–17)", "afternoon"),
    ("Evening (17–21)", "evening"),
];

/// The view; the volunteers signed up on this node live in the definition.
#[derive(Debug, Clone, Default)]
pub struct Volunteers {
    saved: Arc<Mutex<Vec<Volunteer>>>,
}

/// A volunteer, as saved and broadcast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volunteer {
    /// A unique random id, the row's DOM id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their phone number, as typed.
    pub phone: String,
    /// The shift they picked.
    pub shift: String,
}

/// The form's params, typed and validated.
#[derive(Debug, Clone, Default, Deserialize, garde::Validate)]
pub struct SignUp {
    /// At least two letters.
    #[garde(custom(name_rule))]
    #[serde(default)]
    pub name: String,
    /// Ten digits (spaces, dashes, dots and parentheses allowed).
    #[garde(custom(phone_rule))]
    #[serde(default)]
    pub phone: String,
    /// One of the shifts the form offers.
    #[garde(custom(shift_rule))]
    #[serde(default)]
    pub shift: String,
}

impl Validate for SignUp {
    fn validate(&self, errors: &mut Errors) {
        garde_errors(self, errors);
    }
}

fn name_rule(value: &str, _: &()) -> garde::Result {
    match value.trim().chars().count() {
        0 => Err(garde::Error::new("Please tell us your name")),
        1 => Err(garde::Error::new("A name has at least 2 letters")),
        61.. => Err(garde::Error::new("A name has at most 60 letters")),
        _ => Ok(()),
    }
}

fn phone_rule(value: &str, _: &()) -> garde::Result {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " -.()+".contains(c));
    if value.trim().is_empty() {
        Err(garde::Error::new("Please give a phone number"))
    } else if !allowed || digits != 10 {
        Err(garde::Error::new(
            "A phone number has 10 digits, like 555-123-4567",
        ))
    } else {
        Ok(())
    }
}

fn shift_rule(value: &str, _: &()) -> garde::Result {
    if SHIFTS.iter().any(|(_, shift)| *shift == value) {
        Ok(())
    } else {
        Err(garde::Error::new("Please pick a shift"))
    }
}

/// One tab's state.
#[derive(Debug)]
pub struct State {
    form: Form<SignUp>,
    /// New volunteers not rendered yet (a temp assign).
    volunteers: Vec<Volunteer>,
    /// Saved by this tab, to give the form a fresh id after each save.
    saved: u64,
}

impl Default for State {
    fn default() -> Self {
        Self {
            form: Form::empty("volunteer"),
            volunteers: Vec::new(),
            saved: 0,
        }
    }
}

/// The form's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// `phx-change`.
    Validate(FormParams),
    /// `phx-submit`.
    Save(FormParams),
}

impl LiveView for Volunteers {
    type State = State;
    type Event = Event;
    type Info = Volunteer;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.subscribe(TOPIC).await?;
        let saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        let newest_first: Vec<Volunteer> = saved.iter().rev().cloned().collect();
        drop(saved);
        socket.assign(|state| state.volunteers = newest_first);
        socket.temp_assign(|state| state.volunteers.clear());
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Validate(params) => {
                socket.assign(|state| state.form = Form::change("volunteer", &params));
            }
            Event::Save(params) => {
                match Form::<SignUp>::submit("volunteer", &params).into_valid() {
                    Ok(signup) => {
                        let volunteer = {
                            let mut saved =
                                self.saved.lock().unwrap_or_else(PoisonError::into_inner);
                            let volunteer = Volunteer {
                                id: crate::random_name(),
                                name: signup.name.trim().to_owned(),
                                phone: signup.phone.trim().to_owned(),
                                shift: signup.shift,
                            };
                            saved.push(volunteer.clone());
                            if saved.len() > KEEP {
                                saved.remove(0);
                            }
                            volunteer
                        };
                        socket.broadcast(TOPIC, &volunteer).await?;
                        socket.put_flash(
                            "info",
                            format!("Thanks for signing up, {}!", volunteer.name),
                        );
                        socket.assign(|state| {
                            state.form = Form::empty("volunteer");
                            state.saved += 1;
                        });
                    }
                    Err(form) => socket.assign(|state| state.form = form),
                }
            }
        }
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, volunteer: Volunteer) -> ViewResult {
        socket.assign(|state| state.volunteers.insert(0, volunteer));
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        let form = &state.form;
        let (name, phone, shift) = (form.field("name"), form.field("phone"), form.field("shift"));
        html! {
            h1 { "Volunteer sign-up" }
            (crate::flash_messages(meta.flash))
            form.signup id=(format!("signup-{}", state.saved)) phx-change="validate" phx-submit="save" {
                div.field {
                    (label(&name, "Name"))
                    (text_input(&name, &[("placeholder", "Ada Lovelace"), ("autocomplete", "off")]))
                    (error_tag(&name))
                }
                div.field {
                    (label(&phone, "Phone"))
                    (tel_input(&phone, &[("placeholder", "555-123-4567"), ("autocomplete", "off")]))
                    (error_tag(&phone))
                }
                div.field {
                    (label(&shift, "Shift"))
                    (select(&shift, SHIFTS, Some("Pick a shift"), &[]))
                    (error_tag(&shift))
                }
                (submit_button("Sign up", "Saving...", &[("id", "signup-submit")]))
            }
            h2 { "Volunteers" }
            ul #volunteers phx-update="prepend" {
                @for volunteer in &state.volunteers, key = &volunteer.id {
                    li id=(format!("volunteer-{}", volunteer.id)) {
                        b { (&volunteer.name) } " · " (&volunteer.phone) " · " (shift_label(&volunteer.shift))
                    }
                }
            }
            (crate::back_link())
        }
    }
}

fn shift_label(value: &str) -> &'static str {
    SHIFTS
        .iter()
        .find(|(_, shift)| *shift == value)
        .map_or("", |(label, _)| label)
}
