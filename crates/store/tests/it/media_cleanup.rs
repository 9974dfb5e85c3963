//! Images no post uses are removed after their grace period, on both
//! backends, with the clock under the test's control.

use crate::edit::{HOUR, NOW, due_post, edit, world};
use dialoog_store::{PostExtras, Store};

async fn unused_images_go_after_their_grace(store: Store) {
    let (ws, ch) = world(&store).await;
    let kept = store
        .put_media(ws, "used", "image/png", b"1", None, NOW)
        .await
        .unwrap();
    let loose = store
        .put_media(ws, "loose", "image/png", b"2", None, NOW)
        .await
        .unwrap();
    let fresh = store
        .put_media(ws, "fresh", "image/png", b"3", None, NOW + 20 * HOUR)
        .await
        .unwrap();
    let extras = PostExtras {
        campaign: String::new(),
        media: vec![(kept.id, String::new())],
    };
    let (post, _) = store
        .create_post_with(&due_post(ws, ch, "Met foto", NOW + 48 * HOUR), &extras, NOW)
        .await
        .unwrap();
    let left = |store: Store| async move {
        let ids = [kept.id, loose.id, fresh.id];
        let mut ids: Vec<i64> = store
            .media_infos(ws, &ids)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        ids.sort_unstable();
        ids
    };
    // Nothing is older than the cut yet.
    assert_eq!(store.delete_unused_media(NOW, 500).await.unwrap(), 0);
    // A day on: the loose image goes; the used one and the fresh one stay.
    assert_eq!(store.delete_unused_media(NOW + 1, 500).await.unwrap(), 1);
    assert_eq!(left(store.clone()).await, [kept.id, fresh.id]);
    // Uploading the same bytes again starts its grace again.
    let again = store
        .put_media(ws, "fresh", "image/png", b"3", None, NOW + 40 * HOUR)
        .await
        .unwrap();
    assert_eq!(again.id, fresh.id);
    assert_eq!(
        store
            .delete_unused_media(NOW + 30 * HOUR, 500)
            .await
            .unwrap(),
        0
    );
    // An edit that drops the image makes it unused; then it goes.
    let mut e = edit("Zonder foto");
    e.media = vec![];
    store.edit_post(ws, post.id, &e, NOW).await.unwrap();
    assert_eq!(
        store
            .delete_unused_media(NOW + 30 * HOUR, 500)
            .await
            .unwrap(),
        1
    );
    assert_eq!(left(store.clone()).await, [fresh.id]);
    // Deleted posts free their images the same way.
    let extras = PostExtras {
        campaign: String::new(),
        media: vec![(fresh.id, String::new())],
    };
    let (gone, _) = store
        .create_post_with(&due_post(ws, ch, "Weg", NOW + 48 * HOUR), &extras, NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_unused_media(NOW + 90 * HOUR, 500)
            .await
            .unwrap(),
        0
    );
    store.delete_post(ws, gone.id).await.unwrap();
    assert_eq!(
        store
            .delete_unused_media(NOW + 90 * HOUR, 500)
            .await
            .unwrap(),
        1
    );
    assert!(left(store).await.is_empty());
}

dialoog_store::both_backends!(unused_images_go_after_their_grace);
