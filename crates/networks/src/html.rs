//! HTML from outside turned into plain text: tags (and every attribute:
//! event handlers, `style`, links) dropped, comments, scripts, styles,
//! titles and templates dropped with their content, entities decoded,
//! white space folded. What comes out can be shown anywhere (escaped)
//! without being able to run, restyle the page or link anywhere.

/// Plain text from an HTML fragment.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode(&rest[..lt]));
        let tag = &rest[lt..];
        if let Some(comment) = tag.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |e| &comment[e + 3..]);
            continue;
        }
        let Some(gt) = tag.find('>') else {
            rest = "";
            break;
        };
        let name: String = tag[1..gt]
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        rest = &tag[gt + 1..];
        if matches!(name.as_str(), "script" | "style" | "title" | "template")
            && !tag[1..].starts_with('/')
        {
            let close = format!("</{name}");
            match rest.to_ascii_lowercase().find(&close) {
                Some(i) => rest = rest[i..].find('>').map_or("", |j| &rest[i + j + 1..]),
                None => rest = "",
            }
            continue;
        }
        if matches!(
            name.as_str(),
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "blockquote"
        ) {
            out.push('\n');
        }
    }
    out.push_str(&decode(rest));
    // Fold runs of spaces; keep single line breaks.
    let mut folded = String::with_capacity(out.len());
    for line in out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
    {
        if !folded.is_empty() {
            folded.push('\n');
        }
        folded.push_str(&line);
    }
    folded
}

fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &after[..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                    u32::from_str_radix(&ent[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if ent.starts_with('#') => ent[1..].parse::<u32>().ok().and_then(char::from_u32),
                _ => None,
            }?;
            Some((c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn hostile_html_becomes_harmless_text() {
        assert_eq!(
            to_text("<p>Lekker <b>brood</b> &amp; koffie</p><p>Groet</p>"),
            "Lekker brood & koffie\nGroet"
        );
        assert_eq!(
            to_text("Hoi<script>alert(1)</script> daar<style>p{}</style>!"),
            "Hoi daar!"
        );
        assert_eq!(to_text("<img src=x onerror=alert(1)>tekst"), "tekst");
        assert_eq!(
            to_text("a &lt;script&gt; b &#233; &#x263A; &bogus; &"),
            "a <script> b é ☺ &bogus; &"
        );
        assert_eq!(to_text("<a href=\"javascript:alert(1)\">klik</a>"), "klik");
        assert_eq!(to_text("unclosed <b"), "unclosed");
        assert_eq!(
            to_text(
                "<head><title>x</title><style>body{display:none}</style></head><body><p style=\"position:fixed;top:0\" onclick=\"alert(1)\">Hoi</p></body>"
            ),
            "Hoi"
        );
        assert_eq!(
            to_text("a<!-- b > c -->d<!--[if mso]>e<![endif]-->f"),
            "adf"
        );
        assert_eq!(
            to_text("<a href=\"jav&#x09;ascript:alert(1)\">klik</a>"),
            "klik"
        );
        assert_eq!(to_text("x<!-- never closed"), "x");
        assert_eq!(to_text(""), "");
    }
}
