//! Who else has a conversation open, and who is writing an answer in it:
//! the warning that keeps two agents from answering the same customer.
//!
//! Kept in this process's memory: open pages tell the server every few
//! seconds that they are still there (and whether someone is typing), and
//! what has not been heard of for [`GONE`] is forgotten. With several
//! processes behind one address, a colleague on another process is not
//! seen (a decision: nothing is written to the database for it).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// After this long without a sign a person no longer counts as there.
pub const GONE: Duration = Duration::from_secs(30);
/// After this long without a keystroke a person no longer counts as typing.
pub const TYPING: Duration = Duration::from_secs(12);

#[derive(Debug, Clone)]
struct Seen {
    user_id: i64,
    name: String,
    at: Instant,
    typed_at: Option<Instant>,
}

/// Another person in the same conversation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Other {
    /// Their name.
    pub name: String,
    /// Whether they are writing an answer.
    pub typing: bool,
}

/// Open conversations and who has them open.
#[derive(Debug, Default)]
pub struct Presence(Mutex<HashMap<i64, Vec<Seen>>>);

impl Presence {
    /// Records that `user_id` has conversation `id` open (and is typing,
    /// if so), and returns the others there now.
    pub fn touch(&self, id: i64, user_id: i64, name: &str, typing: bool) -> Vec<Other> {
        self.touch_at(id, user_id, name, typing, Instant::now())
    }

    fn touch_at(
        &self,
        id: i64,
        user_id: i64,
        name: &str,
        typing: bool,
        now: Instant,
    ) -> Vec<Other> {
        let mut all = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget whoever has gone, everywhere (the map stays small).
        all.retain(|_, seen| {
            seen.retain(|s| now.duration_since(s.at) < GONE);
            !seen.is_empty()
        });
        let seen = all.entry(id).or_default();
        match seen.iter_mut().find(|s| s.user_id == user_id) {
            Some(me) => {
                me.at = now;
                if typing {
                    me.typed_at = Some(now);
                }
            }
            None => seen.push(Seen {
                user_id,
                name: name.to_owned(),
                at: now,
                typed_at: typing.then_some(now),
            }),
        }
        seen.iter()
            .filter(|s| s.user_id != user_id)
            .map(|s| Other {
                name: s.name.clone(),
                typing: s.typed_at.is_some_and(|t| now.duration_since(t) < TYPING),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colleagues_are_seen_while_there_and_typing_while_typing() {
        let p = Presence::default();
        let t0 = Instant::now();
        assert!(p.touch_at(1, 10, "Anna", false, t0).is_empty());
        assert_eq!(
            p.touch_at(1, 11, "Joost", true, t0 + Duration::from_secs(1)),
            [Other {
                name: "Anna".into(),
                typing: false
            }]
        );
        assert_eq!(
            p.touch_at(1, 10, "Anna", false, t0 + Duration::from_secs(2)),
            [Other {
                name: "Joost".into(),
                typing: true
            }]
        );
        // Another conversation is another room.
        assert!(p.touch_at(2, 12, "Mila", false, t0).is_empty());
        // Joost stops typing, then leaves.
        assert_eq!(
            p.touch_at(1, 10, "Anna", false, t0 + Duration::from_secs(20)),
            [Other {
                name: "Joost".into(),
                typing: false
            }]
        );
        assert!(
            p.touch_at(1, 10, "Anna", false, t0 + Duration::from_secs(40))
                .is_empty()
        );
    }
}
