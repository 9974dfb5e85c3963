//! A batch of mentions larger than one statement holds, on both backends:
//! every mention stored once, copies counted on their originals, repeats
//! of a key in the batch stored once, and every query link kept.

use crate::edit::{NOW, world};
use crate::listening::mention;
use dialoog_store::{CopyOf, MentionFilter, NewMention, Store, Stored};

async fn a_large_batch_is_stored_whole(store: Store) {
    let (ws, _) = world(&store).await;
    let brand = store
        .create_listening_query(ws, "Merk", "vries", "brand", NOW)
        .await
        .unwrap();
    let rival = store
        .create_listening_query(ws, "Concurrent", "jansen", "competitor", NOW)
        .await
        .unwrap();
    // 2,500 originals (many statements' worth), each found by both
    // queries and one that does not exist (5,000 links),
    // then 500 copies of originals in the batch and a repeat of the first
    // key.
    let mut batch: Vec<NewMention> = (0..2_500)
        .map(|i| {
            mention(
                ws,
                &format!("k{i}"),
                &format!("De Vries en Jansen {i}"),
                "neutral",
                &[brand.id, rival.id, rival.id + 1000],
            )
        })
        .collect();
    for i in 0..500 {
        batch.push(NewMention {
            copy_of: Some(CopyOf::InBatch(i % 10)),
            ..mention(ws, &format!("c{i}"), "De Vries", "neutral", &[brand.id])
        });
    }
    batch.push(mention(ws, "k0", "De Vries again", "neutral", &[brand.id]));
    let stored = store.insert_mentions(&batch, NOW).await.unwrap();
    assert_eq!(stored.len(), 3_001);
    let new: Vec<i64> = stored[..2_500]
        .iter()
        .map(|s| match s {
            Stored::New(id) => *id,
            other => panic!("an original stored as {other:?}"),
        })
        .collect();
    for (i, s) in stored[2_500..3_000].iter().enumerate() {
        assert_eq!(*s, Stored::Copy(new[i % 10]), "copy {i}");
    }
    assert_eq!(stored[3_000], Stored::Known, "a repeated key counts once");

    let first = store
        .mentions(ws, &MentionFilter::default(), 500)
        .await
        .unwrap();
    let page_ids: Vec<i64> = first.iter().map(|m| m.id).collect();
    let links = store.mention_query_ids(&page_ids).await.unwrap();
    assert_eq!(links.len(), 2 * page_ids.len(), "both queries, no more");
    for m in &first {
        let i = new.iter().position(|id| *id == m.id).unwrap();
        let want = if i < 10 { 51 } else { 1 };
        assert_eq!(m.copies, want, "copies of {}", m.text);
    }
    let by_rival = MentionFilter {
        query_id: Some(rival.id),
        ..MentionFilter::default()
    };
    let facets = store.mention_facets(ws, &by_rival).await.unwrap();
    let total: i64 = facets.sentiment.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 2_500, "every original found by the rival query");

    // Copies whose original in the batch was known already are stored as
    // originals, with their own links.
    let again = [
        mention(ws, "k1", "De Vries", "neutral", &[brand.id]),
        NewMention {
            copy_of: Some(CopyOf::InBatch(0)),
            ..mention(ws, "fresh", "De Vries!", "neutral", &[rival.id])
        },
    ];
    let stored = store.insert_mentions(&again, NOW).await.unwrap();
    assert_eq!(stored[0], Stored::Known);
    let Stored::New(fresh) = stored[1] else {
        panic!("{stored:?}")
    };
    assert_eq!(
        store.mention_query_ids(&[fresh]).await.unwrap(),
        [(fresh, rival.id)]
    );
    assert_eq!(store.insert_mentions(&[], NOW).await.unwrap(), []);
}

dialoog_store::both_backends!(a_large_batch_is_stored_whole);
