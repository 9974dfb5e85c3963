//! Roles within a workspace and what each may do.
//!
//! Every route of the UI and the API names the [`Action`] it performs; the
//! web layer asks [`Role::can`] before touching anything. Keeping the table
//! here, in one place, is what lets the test matrix prove it.

use serde::{Deserialize, Serialize};

/// A member's role in one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Full control, including members and other owners.
    Owner,
    /// Runs the workspace day to day: settings, members (not owners), approvals.
    Manager,
    /// Writes and schedules content.
    Editor,
    /// Answers the inbox (webcare).
    Agent,
    /// The business the agency works for: reads and approves.
    Client,
}

impl Role {
    /// Every role, strongest first.
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Manager,
        Role::Editor,
        Role::Agent,
        Role::Client,
    ];

    /// The stable lower-case name used in the API and the database.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Editor => "editor",
            Role::Agent => "agent",
            Role::Client => "client",
        }
    }

    /// Parses the stable name; anything else is a field error on `role`.
    pub fn parse(s: &str) -> Result<Self, crate::FieldError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or(crate::FieldError::new("role", "role_invalid"))
    }

    /// Whether this role may perform `action`.
    #[must_use]
    pub const fn can(self, action: Action) -> bool {
        use Action as A;
        use Role as R;
        match action {
            A::ViewWorkspace | A::ViewMembers | A::ViewChannels | A::ViewPosts => true,
            A::ComposePosts => matches!(self, R::Owner | R::Manager | R::Editor),
            A::ApprovePosts => matches!(self, R::Owner | R::Manager | R::Client),
            A::CommentPosts => !matches!(self, R::Agent),
            // Clients see what is published and approve; customers' words
            // and the team's notes are not theirs to read.
            A::ViewInbox | A::AnswerInbox => !matches!(self, R::Client),
            A::SyncChannels => !matches!(self, R::Client),
            // What the public web says about the brand is every member's
            // to read; queries and sources are set up by those who plan.
            A::ViewListening => true,
            A::ManageListening => matches!(self, R::Owner | R::Manager | R::Editor),
            A::EditSettings | A::ManageMembers | A::ViewAudit | A::ManageChannels => {
                matches!(self, R::Owner | R::Manager)
            }
            A::GrantOwner => matches!(self, R::Owner),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a member does inside a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the workspace and its areas.
    ViewWorkspace,
    /// See who the members are.
    ViewMembers,
    /// Rename the workspace, change its timezone.
    EditSettings,
    /// Invite, change roles, remove members (owners excepted).
    ManageMembers,
    /// Make someone an owner, or change or remove an owner.
    GrantOwner,
    /// Read the audit log.
    ViewAudit,
    /// See the channels and their health.
    ViewChannels,
    /// Connect and disconnect channels.
    ManageChannels,
    /// Fetch a channel's new items now.
    SyncChannels,
    /// See the posts and the plan.
    ViewPosts,
    /// Write, schedule, change and delete posts.
    ComposePosts,
    /// Approve or send back a post awaiting approval; share it with a
    /// client through a link.
    ApprovePosts,
    /// Comment on a post.
    CommentPosts,
    /// Read the inbox: conversations, contacts, notes.
    ViewInbox,
    /// Answer, note, tag, assign, snooze and resolve conversations.
    AnswerInbox,
    /// Read listening: mentions, sources' health, alerts.
    ViewListening,
    /// Add, change and remove listening queries and sources.
    ManageListening,
}

impl Action {
    /// Every action, for exhaustive tests.
    pub const ALL: [Action; 17] = [
        Action::ViewWorkspace,
        Action::ViewMembers,
        Action::EditSettings,
        Action::ManageMembers,
        Action::GrantOwner,
        Action::ViewAudit,
        Action::ViewChannels,
        Action::ManageChannels,
        Action::SyncChannels,
        Action::ViewPosts,
        Action::ComposePosts,
        Action::ApprovePosts,
        Action::CommentPosts,
        Action::ViewInbox,
        Action::AnswerInbox,
        Action::ViewListening,
        Action::ManageListening,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_can_everything_and_client_only_reads() {
        for a in Action::ALL {
            assert!(Role::Owner.can(a), "{a:?}");
        }
        assert!(Role::Client.can(Action::ViewWorkspace));
        assert!(!Role::Client.can(Action::ManageMembers));
        assert!(!Role::Manager.can(Action::GrantOwner));
        assert!(Role::Manager.can(Action::ViewAudit));
        assert!(!Role::Editor.can(Action::ViewAudit));
        assert!(Role::Client.can(Action::ApprovePosts));
        assert!(!Role::Client.can(Action::ComposePosts));
        assert!(!Role::Editor.can(Action::ApprovePosts));
        assert!(!Role::Agent.can(Action::CommentPosts));
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert!(Role::parse("admin").is_err());
    }
}
