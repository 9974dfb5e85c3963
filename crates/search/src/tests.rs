//! The index against the product's promises: stems per language, filters,
//! workspaces apart, newest first, facets, removal, and a reopened index
//! knowing where it was.

use crate::{IndexDoc, MentionSearch, SearchFilter, TantivyIndex};

fn doc(id: i64, ws: i64, lang: Option<&str>, text: &str, at: i64) -> IndexDoc {
    IndexDoc {
        id,
        workspace_id: ws,
        text: text.to_owned(),
        author: format!("Auteur {id}"),
        lang: lang.map(str::to_owned),
        sentiment: if id % 2 == 0 { "positive" } else { "negative" }.to_owned(),
        source_kind: "rss".to_owned(),
        query_ids: vec![100 + ws],
        published_at: at,
    }
}

fn q(words: &str) -> SearchFilter {
    SearchFilter {
        q: words.to_owned(),
        ..SearchFilter::default()
    }
}

fn ids(ix: &TantivyIndex, ws: i64, f: &SearchFilter) -> Vec<i64> {
    ix.search(ws, f, 50, false)
        .map(|f| f.ids)
        .unwrap_or_default()
}

fn sample() -> TantivyIndex {
    let Ok(ix) = TantivyIndex::in_memory() else {
        unreachable!("an index in memory opens")
    };
    let docs = [
        doc(
            1,
            1,
            Some("nl"),
            "Wij fietsen elke dag naar het werk",
            1_000,
        ),
        doc(2, 1, Some("nl"), "Het nieuwe fietspad is prachtig", 2_000),
        doc(3, 1, Some("en"), "I was running late for the train", 3_000),
        doc(4, 1, Some("en"), "The bikes are great", 4_000),
        doc(5, 2, Some("nl"), "Mijn fiets is gestolen", 5_000),
        doc(6, 1, None, "Café Fiets Utrecht", 6_000),
    ];
    assert!(ix.add(&docs).is_ok());
    assert!(ix.commit(6).is_ok());
    ix
}

#[test]
fn dutch_stems_find_fietsen_and_compounds_for_fiets() {
    let ix = sample();
    assert_eq!(ids(&ix, 1, &q("fiets")), vec![6, 2, 1]);
    assert_eq!(
        ids(&ix, 1, &q("fietsen")),
        vec![2, 1],
        "a text of unknown language matches its exact words only"
    );
    assert_eq!(
        ids(&ix, 1, &q("pad")),
        vec![2],
        "a compound is found by its parts"
    );
}

#[test]
fn english_stems_find_running_for_run() {
    let ix = sample();
    assert_eq!(ids(&ix, 1, &q("run")), vec![3]);
    assert_eq!(ids(&ix, 1, &q("bike")), vec![4]);
    assert_eq!(
        ids(&ix, 1, &q("run train")),
        vec![3],
        "every word must occur"
    );
    assert!(ids(&ix, 1, &q("run fiets")).is_empty());
}

#[test]
fn workspaces_never_see_each_others_mentions() {
    let ix = sample();
    assert_eq!(ids(&ix, 2, &q("fiets")), vec![5]);
    assert!(
        ids(&ix, 2, &q("workspace:1 OR fietsen"))
            .iter()
            .all(|id| *id == 5)
    );
    assert!(ids(&ix, 3, &q("fiets")).is_empty());
    assert_eq!(
        ids(&ix, 2, &q("")),
        vec![5],
        "no words: the workspace's all"
    );
}

#[test]
fn filters_pages_and_facets_agree() {
    let ix = sample();
    let mut f = q("fiets");
    f.lang = Some("nl".into());
    assert_eq!(ids(&ix, 1, &f), vec![2, 1]);
    f.lang = Some("und".into());
    assert_eq!(ids(&ix, 1, &f), vec![6]);
    let mut f = q("fiets");
    f.sentiment = Some("negative".into());
    assert_eq!(ids(&ix, 1, &f), vec![1]);
    let mut f = q("fiets");
    f.since = Some(2_000);
    f.until = Some(6_000);
    assert_eq!(ids(&ix, 1, &f), vec![2]);
    let mut f = q("fiets");
    f.before = Some((6_000, 6));
    assert_eq!(ids(&ix, 1, &f), vec![2, 1], "the next page");
    f.query_id = Some(101);
    assert_eq!(ids(&ix, 1, &f), vec![2, 1]);
    f.query_id = Some(102);
    assert!(ids(&ix, 1, &f).is_empty());

    let found = ix.search(1, &q("fiets"), 1, true);
    let Ok(found) = found else {
        unreachable!("search works")
    };
    assert_eq!(found.ids, vec![6], "the limit applies to ids only");
    let Some(facets) = found.facets else {
        unreachable!("facets asked for")
    };
    assert_eq!(
        facets.sentiment,
        vec![("positive".into(), 2), ("negative".into(), 1)]
    );
    assert_eq!(facets.lang, vec![("nl".into(), 2), ("und".into(), 1)]);
    assert_eq!(facets.source, vec![("rss".into(), 3)]);
    assert_eq!(facets.query, vec![(101, 3)]);
    assert_eq!(facets.days.len(), 2, "{:?}", facets.days);
    assert_eq!(facets.days.iter().map(|d| d.2).sum::<i64>(), 3);
}

#[test]
fn removal_and_replacing_and_reopening() {
    let dir = std::env::temp_dir().join(format!("dlg-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let Ok(ix) = TantivyIndex::open(&dir) else {
            unreachable!("opens")
        };
        assert_eq!(ix.last_id(), 0);
        assert!(
            ix.add(&[
                doc(1, 1, Some("nl"), "fiets", 1_000),
                doc(2, 1, Some("nl"), "fiets", 9_000)
            ])
            .is_ok()
        );
        assert!(
            ix.add(&[doc(2, 1, Some("nl"), "fiets opnieuw", 9_000)])
                .is_ok()
        );
        assert!(ix.commit(2).is_ok());
        assert_eq!(
            ids(&ix, 1, &q("fiets")),
            vec![2, 1],
            "replaced, not doubled"
        );
        assert!(ix.remove_older(1, 5_000).is_ok());
        assert!(ix.remove_older(2, 50_000).is_ok());
        assert!(ix.commit(2).is_ok());
        assert_eq!(ids(&ix, 1, &q("fiets")), vec![2]);
    }
    let Ok(ix) = TantivyIndex::open(&dir) else {
        unreachable!("opens again")
    };
    assert_eq!(ix.last_id(), 2, "the commit remembers the last id");
    assert_eq!(ids(&ix, 1, &q("opnieuw")), vec![2]);
    // After reopening, a mention at or below the committed id still
    // replaces its earlier self; one above it is simply added.
    assert!(
        ix.add(&[
            doc(2, 1, Some("nl"), "fiets derde keer", 9_000),
            doc(3, 1, Some("nl"), "fiets nieuw", 9_500)
        ])
        .is_ok()
    );
    assert!(ix.commit(3).is_ok());
    assert_eq!(
        ids(&ix, 1, &q("fiets")),
        vec![3, 2],
        "replaced, not doubled"
    );
    assert_eq!(ids(&ix, 1, &q("derde")), vec![2]);
    let _ = std::fs::remove_dir_all(&dir);
}
