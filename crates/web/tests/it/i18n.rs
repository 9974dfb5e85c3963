//! Both languages are complete: the same keys, and every key the code and
//! the templates use exists.

use dialoog_domain::Locale;
use dialoog_web::i18n::Tr;
use std::collections::BTreeSet;

fn used_keys() -> BTreeSet<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    let mut files = vec![];
    for dir in ["templates", "src", "src/ui", "src/api"] {
        for e in std::fs::read_dir(format!("{root}{dir}")).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                files.push(std::fs::read_to_string(p).unwrap());
            }
        }
    }
    let mut keys = BTreeSet::new();
    for text in files {
        for (i, _) in text.match_indices('"') {
            let rest = &text[i + 1..];
            let Some(end) = rest.find('"') else { continue };
            let cand = &rest[..end];
            let prefixes = [
                "setup.completed",
                "invite.",
                "member.",
                "workspace.",
                "token.",
                "password.",
                "two_factor.",
                "user.",
                "nav.",
                "field.",
                "hint.",
                "setup.",
                "signin.",
                "totp.",
                "forgot.",
                "reset.",
                "invite.",
                "workspaces.",
                "overview.",
                "area.",
                "members.",
                "account.",
                "notice.",
                "error.",
                "mail.",
                "action.",
                "a11y.",
                "audit.",
            ];
            if prefixes.iter().any(|p| cand.starts_with(p))
                && cand
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_' || c.is_ascii_digit())
                && !cand.ends_with('.')
            {
                keys.insert(cand.to_owned());
            }
        }
    }
    keys
}

#[test]
fn dutch_and_english_have_the_same_keys() {
    let nl: BTreeSet<_> = Tr::keys(Locale::Nl).into_iter().collect();
    let en: BTreeSet<_> = Tr::keys(Locale::En).into_iter().collect();
    assert_eq!(
        nl.difference(&en).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "only in Dutch"
    );
    assert_eq!(
        en.difference(&nl).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "only in English"
    );
}

#[test]
fn every_used_key_is_translated() {
    let nl: BTreeSet<_> = Tr::keys(Locale::Nl).into_iter().collect();
    // Audit actions are stored as codes and shown through `audit.action.<code>`.
    let missing: Vec<_> = used_keys()
        .into_iter()
        .filter(|k| !k.ends_with(".html"))
        .filter(|k| !nl.contains(k.as_str()) && !nl.contains(format!("audit.action.{k}").as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "keys used but not translated: {missing:?}"
    );
}

#[test]
fn every_error_code_and_role_and_area_has_words() {
    let t = Tr(Locale::Nl);
    for role in dialoog_domain::Role::ALL {
        assert!(t.get(&format!("role.{role}")).is_some(), "{role}");
    }
    for (slug, key) in dialoog_web::ui::Page::areas() {
        assert!(
            t.get(key).is_some() && t.get(&format!("area.{slug}.desc")).is_some(),
            "{slug}"
        );
    }
    for status in [400, 401, 403, 404, 409, 410, 413, 415, 422, 429, 500] {
        assert!(
            t.get(&format!("error.title.{status}")).is_some(),
            "{status}"
        );
    }
}
