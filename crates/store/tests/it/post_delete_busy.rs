//! Deleting a post on SQLite while another process is writing: the delete
//! waits its turn (the busy timeout) instead of failing with "database is
//! locked".

use dialoog_store::testing::TestDb;
use dialoog_store::{NewOwner, NewPost, NewTarget, StoreError};
use sqlx::Connection;
use std::time::Duration;

const T0: i64 = 1_790_000_000_000;

#[tokio::test]
async fn deleting_a_post_waits_for_another_writer_on_sqlite() {
    let db = TestDb::sqlite().await;
    let store = db.store.clone();
    let (_, ws) = store
        .setup(
            &NewOwner {
                organisation: "Bakkerij",
                name: "Eva",
                email: "eva@bakkerij.example",
                password_hash: "x",
                locale: "nl",
                timezone: "UTC",
            },
            T0,
        )
        .await
        .unwrap();
    let channel = store
        .create_channel(ws.id, "mastodon", "a", b"sealed", T0)
        .await
        .unwrap()
        .id;
    let (post, _) = store
        .create_post(
            &NewPost {
                workspace_id: ws.id,
                author_id: Some(1),
                text: "Vers brood".into(),
                scheduled_at: Some(T0 + 60_000),
                state: "scheduled".into(),
                targets: vec![NewTarget {
                    channel_id: channel,
                    network: "mastodon".into(),
                    channel_name: "a".into(),
                    text: None,
                    idempotency_key: "k".into(),
                }],
            },
            T0,
        )
        .await
        .unwrap();

    // Another process holds the write lock for a moment.
    let mut other = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let deleting = tokio::spawn({
        let store = store.clone();
        async move { store.delete_post(ws.id, post.id).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::raw_sql("COMMIT").execute(&mut other).await.unwrap();

    deleting.await.unwrap().unwrap();
    assert!(matches!(
        store.post(ws.id, post.id).await,
        Err(StoreError::NotFound)
    ));
}
