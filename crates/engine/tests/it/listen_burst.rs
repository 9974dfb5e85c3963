//! Streams under pressure, against the loopback Jetstream replay of
//! `listen_streams`: a held-up pipeline slows the reader (shown as
//! "slowed") through a burst of 100,000 posts without losing anything; a
//! full disk holds the stream until there is room again (the pipeline
//! says so; nothing is lost or doubled).

use crate::listen_streams::{Replay, T0, commit, count, fast, jetstream_source, text, until};
use crate::support::{World, now};
use dialoog_engine::listen_streams::Streams;
use dialoog_engine::listening::Pipeline;
use dialoog_store::Store;
use dialoog_store::testing::TestDb;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex as AsyncMutex;

async fn a_held_up_pipeline_slows_the_reader_and_nothing_is_lost(store: Store) {
    let w = World::new(store.clone()).await;
    let t = now();
    store
        .create_listening_query(w.ws, "Merk", "\"de vries\"", "brand", t)
        .await
        .unwrap();
    const N: usize = 100_000;
    let server = Replay::start(vec![]).await;
    let mut time = T0;
    for i in 0..N {
        time += 10;
        server.push(commit(i, time, &text(i, i % 20 == 0, "")));
    }
    let a = jetstream_source(&store, w.ws, &server.url).await;
    let (ws1, aid) = (w.ws, a.id);
    let pipeline = Arc::new(AsyncMutex::new(
        Pipeline::new(store.clone(), t).await.unwrap(),
    ));
    let mut streams = Streams::new(store.clone(), pipeline.clone(), fast());
    {
        // The pipeline is busy elsewhere: the channel fills, the reader waits.
        let _busy = pipeline.lock().await;
        until(&mut streams, "shown as slowed", || {
            let store = store.clone();
            async move { store.source(ws1, aid).await.unwrap().live_status == "slowed" }
        })
        .await;
    }
    until(&mut streams, "the burst stored", || {
        let store = store.clone();
        async move { store.source(ws1, aid).await.unwrap().cursor == time.to_string() }
    })
    .await;
    let s = store.source(ws1, aid).await.unwrap();
    assert_eq!(s.fetched_total, N as i64);
    assert_eq!(s.stored_total, (N / 20) as i64);
    assert_eq!(count(&store, ws1).await, (N / 20) as i64);
    assert_eq!(server.connections(), 1);
    streams.stop_all();
}

/// The disk fills up (the SQLite file may not grow): batches wait in the
/// stream, the pipeline says it is held up because the disk is full, and
/// the cursor stays; once room is freed everything heard is stored, once.
#[tokio::test]
async fn a_full_disk_holds_the_stream_and_loses_nothing() {
    let db = TestDb::sqlite().await;
    let w = World::new(db.store.clone()).await;
    let t = now();
    db.store
        .create_listening_query(w.ws, "Merk", "\"de vries\"", "brand", t)
        .await
        .unwrap();
    const N: usize = 2000;
    let server = Replay::start(vec![]).await;
    let mut time = T0;
    for i in 0..N {
        time += 10;
        server.push(commit(i, time, &text(i, i % 2 == 0, "")));
    }
    let a = jetstream_source(&db.store, w.ws, &server.url).await;
    let (ws, aid) = (w.ws, a.id);
    // Everything from here on runs on a store that cannot grow the file,
    // and filler rows take up the last of its room.
    let max = db.pages().await + 5;
    let store = db.capped(max).await;
    db.grow_to(max + 2000).await;
    let pipeline = Arc::new(AsyncMutex::new(
        Pipeline::new(store.clone(), t).await.unwrap(),
    ));
    let held = pipeline.lock().await.held();
    let mut streams = Streams::new(store.clone(), pipeline.clone(), fast());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !held.get().is_some_and(|h| h.full) {
        // Writing the health may fail too; the test goes on.
        let _ = streams.reconcile().await;
        assert!(tokio::time::Instant::now() < deadline, "never held up");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let before = count(&db.store, ws).await;
    assert!(before < (N / 2) as i64, "{before} stored on a full disk");
    assert_ne!(
        db.store.source(ws, aid).await.unwrap().cursor,
        time.to_string()
    );
    // Still held a moment later: nothing heard is let go.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = streams.reconcile().await;
    assert!(held.get().is_some_and(|h| h.full));

    // Room again: the waiting batch is stored, and the rest after it.
    db.free_filler().await;
    until(
        &mut streams,
        "everything stored after the disk had room",
        || {
            let store = db.store.clone();
            async move { store.source(ws, aid).await.unwrap().cursor == time.to_string() }
        },
    )
    .await;
    assert_eq!(count(&db.store, ws).await, (N / 2) as i64, "each once");
    assert_eq!(held.get(), None, "no longer held up");
    let s = db.store.source(ws, aid).await.unwrap();
    assert_eq!(s.fetched_total, N as i64);
    assert_eq!(
        server.connections(),
        1,
        "the stream waited, it did not drop"
    );
    streams.stop_all();
}

dialoog_store::both_backends!(a_held_up_pipeline_slows_the_reader_and_nothing_is_lost);
