//! Colour arithmetic for theming: from one accent colour a host picks, derive text that stays
//! readable on it (WCAG contrast ≥ 4.5:1).

/// Parses `#rgb` or `#rrggbb` into 0–255 channels.
pub fn parse_hex(color: &str) -> Option<(u8, u8, u8)> {
    let hex = color.trim().strip_prefix('#')?;
    let digit = |i: usize, len: usize| u8::from_str_radix(hex.get(i..i + len)?, 16).ok();
    match hex.len() {
        3 => Some((digit(0, 1)? * 17, digit(1, 1)? * 17, digit(2, 1)? * 17)),
        6 => Some((digit(0, 2)?, digit(2, 2)?, digit(4, 2)?)),
        _ => None,
    }
}

/// WCAG relative luminance of an sRGB colour.
pub fn relative_luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// WCAG contrast ratio between two colours (1–21).
pub fn contrast_ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// Black or white, whichever reads better on `accent`; every colour reaches at least 4.58:1
/// with one of the two. `None` when the colour isn't `#rgb`/`#rrggbb`.
pub fn readable_text_on(accent: &str) -> Option<&'static str> {
    let c = parse_hex(accent)?;
    let white = contrast_ratio(c, (255, 255, 255));
    let black = contrast_ratio(c, (0, 0, 0));
    Some(if white >= black { "#ffffff" } else { "#000000" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_and_long_hex() {
        assert_eq!(parse_hex("#fff"), Some((255, 255, 255)));
        assert_eq!(parse_hex("#2f5bd3"), Some((0x2f, 0x5b, 0xd3)));
        assert_eq!(parse_hex("red"), None);
        assert_eq!(parse_hex("#12345"), None);
    }

    #[test]
    fn derived_text_is_readable_on_every_accent() {
        assert_eq!(readable_text_on("#2f5bd3"), Some("#ffffff"));
        assert_eq!(readable_text_on("#ffd400"), Some("#000000"));
        // Sweep the colour cube: the chosen text always reaches 4.5:1.
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(15) {
                for b in (0..=255).step_by(15) {
                    let accent = format!("#{r:02x}{g:02x}{b:02x}");
                    let text = parse_hex(readable_text_on(&accent).unwrap()).unwrap();
                    let ratio = contrast_ratio((r as u8, g as u8, b as u8), text);
                    assert!(ratio >= 4.5, "{accent}: {ratio}");
                }
            }
        }
    }
}
