//! The review rules, one pattern at a time.
use super::*;
use crate::Doc;

fn finals(text: &str) -> Vec<f32> {
    mark(&Doc::new(text).tokens)
        .into_iter()
        .filter_map(|m| match m {
            Mark::Final(v) | Mark::Set(v) => Some((v * 100.0).round() / 100.0),
            _ => None,
        })
        .collect()
}

#[test]
fn ratings_in_text() {
    assert_eq!(finals("1/5, never arrived")[0], -1.2);
    assert_eq!(finals("Ten out of ten"), vec![1.2]);
    assert_eq!(finals("2 sterren"), vec![-0.6]);
    assert!(finals("a five star hotel with bad service").is_empty());
    assert!(finals("open 24/7").is_empty());
}

#[test]
fn intent_and_verdicts() {
    assert_eq!(finals("We will definitely be back"), vec![0.6]);
    assert_eq!(finals("Won't be going back"), vec![-0.6]);
    assert_eq!(finals("Sent it back"), vec![-0.25]);
    assert_eq!(finals("Would not recommend"), vec![-0.7]);
    assert_eq!(finals("I can't recommend them enough"), vec![0.8]);
    assert_eq!(finals("Not worth the money"), vec![-0.6]);
    assert_eq!(finals("Het geld niet waard"), vec![-0.6]);
    assert_eq!(finals("Daar gaan we niet meer heen"), vec![-0.6]);
    assert_eq!(finals("Wij komen zeker terug"), vec![0.6]);
    assert_eq!(finals("Begin er niet aan"), vec![-0.7]);
    assert_eq!(finals("Echt niet te vreten"), vec![-0.7]);
}

#[test]
fn owed_hopes_and_excess() {
    assert_eq!(finals("The parcel never arrived"), vec![-0.5]);
    assert_eq!(
        finals("Twee keer gemaild, nooit antwoord gekregen"),
        vec![-0.5]
    );
    assert_eq!(finals("I wanted to love this book"), vec![-0.4]);
    assert_eq!(finals("I expected far better quality"), vec![-0.4]);
    assert!(finals("Better than expected").is_empty());
    assert_eq!(finals("Veel te duur"), vec![-0.4]);
    assert_eq!(finals("Still waiting"), vec![-0.6]);
    assert_eq!(finals("I heard nothing"), vec![-0.5]);
    assert_eq!(finals("Ik moest drie keer terugkomen"), vec![-0.3]);
    assert_eq!(finals("Zouden zo teruggaan"), vec![0.6]);
    assert_eq!(finals("They never let me down"), vec![-0.6]);
    assert_eq!(finals("Kwaliteit valt erg tegen"), vec![-0.5]);
    assert_eq!(finals("Don't waste your money"), vec![-0.6]);
    assert_eq!(finals("Do not use this company."), vec![-0.6]);
    assert_eq!(finals("Veel te dure koffie"), vec![-0.4]);
}

proptest::proptest! {
    /// Any mix of the rules' trigger words, numbers and punctuation is
    /// scored without a panic and stays within -1..1.
    #[test]
    fn rule_words_in_any_order(picks in proptest::collection::vec(0usize..40, 0..40)) {
        const PARTS: [&str; 40] = [
            "not", "niet", "te", "too", "1", "5", "/", "10", "out", "of", "van", "de",
            "stars", "sterren", "back", "terug", "will", "won't", "recommend", "worth",
            "waard", "waste", "do", "don't", "buy", "kopen", "wanted", "to", "love",
            "still", "waiting", "meer", "valt", "tegen", "but", "maar", "although", ".",
            ",", "!",
        ];
        let text: Vec<&str> = picks.iter().map(|&i| PARTS[i]).collect();
        let doc = Doc::new(&text.join(" "));
        let s = crate::sentiment::score(&doc, None);
        proptest::prop_assert!((-1.0..=1.0).contains(&s.score));
    }
}
