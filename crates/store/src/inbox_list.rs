//! The inbox list: a workspace's conversations with the list's filters,
//! latest activity first (`last_at`, then `id`, both descending), in keyset
//! pages that continue after the previous page's last row.
//!
//! A search of three or more characters finds its page in two steps, and
//! the page is the one a single query over the whole filtered list would
//! give. First the filtered list is walked in list order, at most
//! [`SEARCH_WALK`] rows in growing chunks, each row checked against its
//! search document: a common word fills the page there, after a few hundred
//! rows. Only when the walk ends without a full page (and the list goes on)
//! is the trigram index asked, for the rows after the last one walked; the
//! word is rare then, so its matches are few and sorting them is cheap.
//! Shorter queries keep their bounded scan (`inbox_search.rs`).

use crate::inbox::{AssigneeFilter, Bind, CONV_SELECT, Conversation, InboxFilter};
use crate::{Result, Store, inbox_search, on};

/// How many rows of the filtered list a search walks in list order before
/// it asks the trigram index.
pub const SEARCH_WALK: i64 = 4_000;

/// The walk's first chunk; each next one is twice as long.
const FIRST_CHUNK: i64 = 500;

/// The list's conditions on `c` after `c.workspace_id = $1`, with their
/// bound values (the workspace first).
#[derive(Clone)]
struct Filtered {
    sql: String,
    binds: Vec<Bind>,
}

impl Filtered {
    /// The filters of `f` but its search and its cursor.
    fn new(workspace_id: i64, f: &InboxFilter, now: i64) -> Self {
        let mut w = Filtered {
            sql: String::new(),
            binds: vec![Bind::I(workspace_id)],
        };
        match f.status.as_deref() {
            Some("open") => w.and(
                "c.status = 'open' AND (c.snoozed_until IS NULL OR c.snoozed_until <= $?)",
                Bind::I(now),
            ),
            Some("pending") => w.and(
                "c.status = 'pending' AND (c.snoozed_until IS NULL OR c.snoozed_until <= $?)",
                Bind::I(now),
            ),
            Some("snoozed") => w.and(
                "c.status <> 'resolved' AND c.snoozed_until > $?",
                Bind::I(now),
            ),
            Some(s) => w.and("c.status = $?", Bind::S(s.to_owned())),
            None => {}
        }
        if let Some(ch) = f.channel_id {
            w.and("c.channel_id = $?", Bind::I(ch));
        }
        if let Some(k) = &f.kind {
            w.and("c.kind = $?", Bind::S(k.clone()));
        }
        match f.assignee {
            Some(AssigneeFilter::User(u)) => w.and("c.assignee_id = $?", Bind::I(u)),
            Some(AssigneeFilter::Nobody) => w.sql.push_str(" AND c.assignee_id IS NULL"),
            None => {}
        }
        if let Some(s) = &f.sentiment {
            w.and("c.sentiment = $?", Bind::S(s.clone()));
        }
        if let Some(l) = &f.lang {
            w.and("c.lang = $?", Bind::S(l.clone()));
        }
        if let Some(t) = &f.tag {
            w.and(
                "EXISTS (SELECT 1 FROM conversation_tags t WHERE t.conversation_id = c.id AND t.tag = $?)",
                Bind::S(t.clone()),
            );
        }
        w
    }

    /// Binds `b` and names its place (`$n`).
    fn mark(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// Adds `cond`, whose one `$?` stands for `b`.
    fn and(&mut self, cond: &str, b: Bind) {
        let m = self.mark(b);
        self.sql.push_str(" AND ");
        self.sql.push_str(&cond.replace("$?", &m));
    }

    /// Only rows after `(last_at, id)` in list order (a row value, so the
    /// list's indexes seek to it).
    fn after(&mut self, (at, id): (i64, i64)) {
        let a = self.mark(Bind::I(at));
        let i = self.mark(Bind::I(id));
        self.sql
            .push_str(&format!(" AND (c.last_at, c.id) < ({a}, {i})"));
    }

    /// Ends with the list order and `LIMIT limit`.
    fn order_limit(&mut self, limit: i64) -> String {
        let m = self.mark(Bind::I(limit));
        format!(" ORDER BY c.last_at DESC, c.id DESC LIMIT {m}")
    }
}

/// Runs `$sql` with `$binds` through `$p` as `$query` (`query_as` or
/// `query_scalar`) and fetches all rows.
macro_rules! fetch_bound {
    ($query:ident, $p:ident, $sql:expr, $binds:expr) => {{
        let mut q = sqlx::$query(&$sql);
        for b in $binds {
            q = match b {
                Bind::I(v) => q.bind(*v),
                Bind::S(s) => q.bind(s.as_str()),
            };
        }
        q.fetch_all($p).await
    }};
}

impl Store {
    /// One page of a workspace's conversations, latest activity first.
    pub async fn conversations(
        &self,
        workspace_id: i64,
        f: &InboxFilter,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Conversation>> {
        let search = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if let Some(tag) = f.tag.as_deref().filter(|_| search.is_none()) {
            return self.tag_page(workspace_id, f, tag, now, limit).await;
        }
        let mut w = Filtered::new(workspace_id, f, now);
        if let Some(q) = search {
            let needle = q.to_lowercase();
            if needle.chars().count() >= 3 {
                return self.search_page(w, f.after, &needle, limit).await;
            }
            w.and(&inbox_search::short_condition(self.kind()), Bind::S(needle));
        }
        if let Some(after) = f.after {
            w.after(after);
        }
        let tail = w.order_limit(limit);
        let sql = format!("{CONV_SELECT} WHERE c.workspace_id = $1{}{tail}", w.sql);
        Ok(on!(self, p => fetch_bound!(query_as, p, sql, &w.binds))?)
    }

    /// A page with a tag: the tag's rows newest first (each carries its
    /// conversation's status and latest activity, migration 0019), their
    /// conversations checked against the other filters.
    async fn tag_page(
        &self,
        workspace_id: i64,
        f: &InboxFilter,
        tag: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Conversation>> {
        let untagged = InboxFilter {
            tag: None,
            ..f.clone()
        };
        let mut w = Filtered::new(workspace_id, &untagged, now);
        let mut on_tags = format!(" AND t.tag = {}", w.mark(Bind::S(tag.to_owned())));
        // The view's status read from the tag's index too, so rows of other
        // statuses are passed over without reading their conversations.
        match f.status.as_deref() {
            Some("open") => on_tags.push_str(" AND t.status = 'open'"),
            Some("pending") => on_tags.push_str(" AND t.status = 'pending'"),
            Some("snoozed") => on_tags.push_str(" AND t.status <> 'resolved'"),
            Some(s) => {
                let m = w.mark(Bind::S(s.to_owned()));
                on_tags.push_str(&format!(" AND t.status = {m}"));
            }
            None => {}
        }
        if let Some((at, id)) = f.after {
            let a = w.mark(Bind::I(at));
            let i = w.mark(Bind::I(id));
            on_tags.push_str(&format!(" AND (t.last_at, t.conversation_id) < ({a}, {i})"));
        }
        let m = w.mark(Bind::I(limit));
        // SQLite keeps the left table of a CROSS JOIN outside.
        let join = match self.kind() {
            crate::BackendKind::Sqlite => "CROSS JOIN",
            crate::BackendKind::Postgres => "JOIN",
        };
        let select = CONV_SELECT.replace(
            "FROM conversations c",
            &format!("FROM conversation_tags t {join} conversations c ON c.id = t.conversation_id"),
        );
        let sql = format!(
            "{select} WHERE t.workspace_id = $1{on_tags} AND c.workspace_id = $1{} \
             ORDER BY t.last_at DESC, t.conversation_id DESC LIMIT {m}",
            w.sql
        );
        Ok(on!(self, p => fetch_bound!(query_as, p, sql, &w.binds))?)
    }

    /// A search's page: the walk in list order, then the trigram index
    /// for what the walk did not reach.
    async fn search_page(
        &self,
        w: Filtered,
        after: Option<(i64, i64)>,
        needle: &str,
        limit: i64,
    ) -> Result<Vec<Conversation>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let page = limit as usize;
        let mut hits: Vec<i64> = Vec::new();
        let mut cursor = after;
        let (mut walked, mut chunk) = (0, FIRST_CHUNK);
        while walked < SEARCH_WALK {
            let take = chunk.min(SEARCH_WALK - walked);
            let rows = self.walk(&w, cursor, needle, take).await?;
            walked += take;
            chunk *= 2;
            hits.extend(rows.iter().filter(|r| r.2).map(|r| r.0));
            if let Some(last) = rows.last() {
                cursor = Some((last.1, last.0));
            }
            if hits.len() >= page || (rows.len() as i64) < take {
                // A full page, or the end of the list.
                hits.truncate(page);
                return self.conversations_by_ids(&w, &hits).await;
            }
        }
        let rest = (page - hits.len()) as i64;
        hits.extend(self.indexed(&w, cursor, needle, rest).await?);
        self.conversations_by_ids(&w, &hits).await
    }

    /// `take` rows of the filtered list after `cursor`: (id, last_at,
    /// whether its document holds `needle`).
    async fn walk(
        &self,
        w: &Filtered,
        cursor: Option<(i64, i64)>,
        needle: &str,
        take: i64,
    ) -> Result<Vec<(i64, i64, bool)>> {
        let mut w = w.clone();
        let has = inbox_search::doc_has(self.kind()).replace("$?", &w.mark(Bind::S(needle.into())));
        if let Some(c) = cursor {
            w.after(c);
        }
        let tail = w.order_limit(take);
        let sql = format!(
            "SELECT c.id, c.last_at, {has} AS hit FROM conversations c \
             WHERE c.workspace_id = $1{}{tail}",
            w.sql
        );
        Ok(on!(self, p => fetch_bound!(query_as, p, sql, &w.binds))?)
    }

    /// The ids of the first `take` rows of the filtered list after `cursor`
    /// whose documents hold `needle`, found through the trigram index.
    async fn indexed(
        &self,
        w: &Filtered,
        cursor: Option<(i64, i64)>,
        needle: &str,
        take: i64,
    ) -> Result<Vec<i64>> {
        let mut w = w.clone();
        let m = w.mark(Bind::S(inbox_search::index_bind(self.kind(), needle)));
        let from = inbox_search::index_from(self.kind()).replace("$?", &m);
        if let Some(c) = cursor {
            w.after(c);
        }
        let tail = w.order_limit(take);
        let sql = format!("{from} WHERE c.workspace_id = $1{}{tail}", w.sql);
        Ok(on!(self, p => fetch_bound!(query_scalar, p, sql, &w.binds))?)
    }

    /// The conversations of `ids` (of the workspace of `w`), in list order.
    async fn conversations_by_ids(&self, w: &Filtered, ids: &[i64]) -> Result<Vec<Conversation>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = vec![w.binds[0].clone()];
        binds.extend(ids.iter().map(|id| Bind::I(*id)));
        let marks: Vec<String> = (2..=binds.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "{CONV_SELECT} WHERE c.workspace_id = $1 AND c.id IN ({}) ORDER BY c.last_at DESC, c.id DESC",
            marks.join(", ")
        );
        Ok(on!(self, p => fetch_bound!(query_as, p, sql, &binds))?)
    }
}
