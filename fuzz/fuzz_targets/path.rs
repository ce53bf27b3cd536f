//! Request paths: canonicalize never panics, its output is a fixed point, and the canonical
//! spelling carries nothing an origin could read two ways.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_edge::path::canonicalize;

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = canonicalize(raw) else {
        return;
    };
    let s = path.as_str();

    let again = canonicalize(s).unwrap_or_else(|e| panic!("canonical path {s:?} refused: {e}"));
    assert_eq!(again, path, "canonicalize is not a fixed point on {raw:?}");

    assert!(s.starts_with('/'), "{raw:?} -> {s:?} does not start with /");
    assert!(!s.contains("//"), "{raw:?} -> {s:?} has an empty segment");
    for bad in ["%2F", "%2f", "%5C", "%5c", ";"] {
        assert!(!s.contains(bad), "{raw:?} -> {s:?} contains {bad}");
    }
    assert!(
        s.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'\\'),
        "{raw:?} -> {s:?} has a byte outside printable ASCII or a \\"
    );
    assert_eq!(
        s.ends_with('/') && s != "/",
        raw.ends_with('/') && !path.segments().is_empty(),
        "{raw:?} -> {s:?}: trailing slash not kept as is"
    );

    let encoded: Vec<&str> = s.split('/').filter(|p| !p.is_empty()).collect();
    assert_eq!(
        encoded.len(),
        path.segments().len(),
        "{raw:?} -> {s:?}: segment count differs from {:?}",
        path.segments()
    );
    for (enc, seg) in encoded.iter().zip(path.segments()) {
        assert!(*enc != "." && *enc != "..", "{raw:?} -> {s:?}: dot segment");
        assert!(
            !seg.is_empty() && seg != "." && seg != "..",
            "{raw:?}: decoded segment {seg:?}"
        );
        assert!(
            !seg.contains(['/', '\\', ';']) && !seg.chars().any(char::is_control),
            "{raw:?}: decoded segment {seg:?} has a separator or a control character"
        );
        let b = seg.as_bytes();
        assert!(
            !(0..b.len()).any(|i| b[i] == b'%'
                && b.get(i + 1).copied().is_some_and(is_hex)
                && b.get(i + 2).copied().is_some_and(is_hex)),
            "{raw:?}: decoded segment {seg:?} still holds an escape"
        );
        // The canonical segment decodes to the decoded segment alone.
        assert_eq!(
            canonicalize(&format!("/{enc}")).map(|p| p.segments().to_vec()),
            Ok(vec![seg.clone()]),
            "{raw:?}: segment {enc:?} does not stand alone"
        );
    }
    // Without escapes, the segments are the raw text's non-empty pieces.
    if !raw.contains('%') {
        let pieces: Vec<&str> = raw.split('/').filter(|p| !p.is_empty()).collect();
        assert_eq!(path.segments(), pieces.as_slice(), "{raw:?}");
    }
});
