//! Which connection serves a DN: the one to the deepest domain it lies under. The plan, the
//! journal and the apply route by it.

/// Which connection of `roots` (domain naming contexts) serves `dn`: the longest root it lies
/// under. `None` when it is in none of them.
pub fn route(roots: &[&str], dn: &str) -> Option<usize> {
    let dn = dn.to_ascii_lowercase();
    roots
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let r = r.to_ascii_lowercase();
            dn == r || dn.ends_with(&format!(",{r}"))
        })
        .max_by_key(|(_, r)| r.len())
        .map(|(i, _)| i)
}
