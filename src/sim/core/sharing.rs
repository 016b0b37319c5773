//! Max-min fair rates kept up to date incrementally, with exactly the float
//! operations of the reference progressive filling (`fair_share`).
//!
//! Three observations make a change cheap without changing a single bit of
//! the rates:
//!
//! 1. **Components.** Progressive filling on the flows connected to each
//!    other through shared links (a connected component of the flow–link
//!    graph) gives the same rates as on all flows: the global loop only
//!    interleaves independent components, and within one the bottleneck
//!    order (smallest share, ties by lowest link id) and every subtraction
//!    are the same. A change recomputes only the components it touches
//!    (proptest `components_fill_like_the_whole_network` in `fair_share`).
//! 2. **Private links.** A link that carries one flow only is a candidate
//!    bottleneck with share = its capacity exactly (nothing else ever
//!    subtracts from it), so it acts as a cap on that flow: the flow's
//!    `cap` is its slowest private link (ties: lowest id).
//! 3. **Classes.** Flows with the same set of shared links (a star's
//!    downloads: just the hub's link) are interchangeable except for their
//!    caps. A class fills as a unit: its members are capped one by one in
//!    cap order while their cap is the smallest share around, and the rest
//!    get the share of the first shared link that becomes a bottleneck.
//!    That subtracts the share once per member from each other link of the
//!    class, the reference's count of subtractions of the same value, so the
//!    residuals are bitwise the same. A subtraction into a link with no
//!    unassigned flow left is skipped (its residual is never read again).
//!
//! Cost of one change: the component's classes and shared links, once per
//! round; rounds = bottleneck links + capped members. A star of 75,000
//! downloads is one class on one shared link: one round, whatever its size.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound::{Excluded, Unbounded};

use super::clocks::NONE;

/// A member of a class: (cap as bits, cap link, FlowId, slot); caps are > 0
/// (or +inf when the flow has no private link), so the bits order as the value.
pub(super) type Member = (u64, u32, u64, u32);

#[derive(Debug, Clone, Default)]
pub(super) struct Class {
    pub live: bool,
    /// Its shared links (each carries 2 flows or more), ascending.
    pub key: Box<[u32]>,
    /// Its index in `Sharing::on_link[key[i]]`.
    pos: Box<[u32]>,
    /// Members in the order their caps bind.
    pub members: BTreeSet<Member>,
    /// The rate group of the members not capped.
    pub shared: u32,
    /// Slots of the members capped by their private link (own groups).
    pub capped: Vec<u32>,
    stamp: u32,
    /// Filling: members without a rate yet, the next member by cap.
    left: u32,
    next_cap: Option<Member>,
    /// Filling result: members capped (the first ones by cap), and the
    /// shared link's share the others got (None: all capped).
    pub n_capped: u32,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Sharing {
    pub classes: Vec<Class>,
    free: Vec<u32>,
    by_key: HashMap<Box<[u32]>, u32>,
    /// Classes whose key holds the link.
    pub on_link: Vec<Vec<u32>>,
    residual: Vec<f64>,
    left: Vec<u32>,
    link_stamp: Vec<u32>,
    stamp: u32,
    /// The last filled component.
    pub comp: Vec<u32>,
    comp_links: Vec<u32>,
    stack: Vec<u32>,
}

/// What a filling round picks.
#[derive(Clone, Copy)]
enum Pick {
    Link(u32),
    Cap(u32),
}

impl Sharing {
    pub fn new(n_links: usize) -> Sharing {
        Sharing {
            on_link: vec![Vec::new(); n_links],
            residual: vec![0.0; n_links],
            left: vec![0; n_links],
            link_stamp: vec![0; n_links],
            ..Sharing::default()
        }
    }

    /// The class of `key` (created with `shared` as its group if new);
    /// returns (class, whether it was created).
    pub fn class_for(&mut self, key: &[u32], make_group: impl FnOnce() -> u32) -> (u32, bool) {
        if let Some(&c) = self.by_key.get(key) {
            return (c, false);
        }
        let mut pos = Vec::with_capacity(key.len());
        let c = self.free.pop().unwrap_or(self.classes.len() as u32);
        for &l in key {
            pos.push(self.on_link[l as usize].len() as u32);
            self.on_link[l as usize].push(c);
        }
        let class = Class {
            live: true,
            key: key.into(),
            pos: pos.into(),
            shared: make_group(),
            stamp: self.classes.get(c as usize).map_or(0, |k| k.stamp),
            ..Class::default()
        };
        if c as usize == self.classes.len() {
            self.classes.push(class);
        } else {
            self.classes[c as usize] = class;
        }
        self.by_key.insert(key.into(), c);
        (c, true)
    }

    /// Removes an empty class; returns its shared group (to release).
    pub fn remove_class(&mut self, c: u32) -> u32 {
        let class = std::mem::take(&mut self.classes[c as usize]);
        debug_assert!(class.members.is_empty() && class.capped.is_empty());
        for (&l, &p) in class.key.iter().zip(class.pos.iter()) {
            let list = &mut self.on_link[l as usize];
            list.swap_remove(p as usize);
            if let Some(&moved) = list.get(p as usize) {
                let k = &mut self.classes[moved as usize];
                let i = k.key.binary_search(&l).expect("a class on a link has it in its key");
                k.pos[i] = p;
            }
        }
        self.by_key.remove(&class.key);
        self.classes[c as usize].stamp = class.stamp;
        self.free.push(c);
        class.shared
    }

    /// Progressive filling of the components that hold the classes `seeds`
    /// (dead ones are skipped); `count[l]` is the number of flows on link l.
    /// Sets `n_capped` and `rate` of every class in `comp`.
    pub fn fill(&mut self, seeds: &[u32], count: &[u32], capacity: &[f64]) {
        self.stamp = self.stamp.wrapping_add(1);
        let st = self.stamp;
        self.comp.clear();
        self.comp_links.clear();
        self.stack.clear();
        for &c in seeds {
            let k = &mut self.classes[c as usize];
            if k.live && k.stamp != st {
                k.stamp = st;
                self.stack.push(c);
            }
        }
        while let Some(c) = self.stack.pop() {
            self.comp.push(c);
            for i in 0..self.classes[c as usize].key.len() {
                let l = self.classes[c as usize].key[i] as usize;
                if self.link_stamp[l] == st {
                    continue;
                }
                self.link_stamp[l] = st;
                self.comp_links.push(l as u32);
                self.residual[l] = capacity[l];
                self.left[l] = count[l];
                for &other in &self.on_link[l] {
                    let k = &mut self.classes[other as usize];
                    if k.stamp != st {
                        k.stamp = st;
                        self.stack.push(other);
                    }
                }
            }
        }
        for &c in &self.comp {
            let k = &mut self.classes[c as usize];
            k.left = k.members.len() as u32;
            k.next_cap = k.members.first().copied();
            k.n_capped = 0;
            k.rate = None;
        }
        loop {
            // The bottleneck: smallest share, ties by lowest link id.
            let mut best: Option<(f64, u32, Pick)> = None;
            let better = |b: &Option<(f64, u32, Pick)>, s: f64, id: u32| {
                b.is_none_or(|(bs, bid, _)| s < bs || (s == bs && id < bid))
            };
            for &l in &self.comp_links {
                let left = self.left[l as usize];
                if left == 0 {
                    continue;
                }
                // Clamp: float residue must not turn into a negative rate.
                let share = self.residual[l as usize].max(0.0) / left as f64;
                if better(&best, share, l) {
                    best = Some((share, l, Pick::Link(l)));
                }
            }
            for &c in &self.comp {
                let k = &self.classes[c as usize];
                if let (true, Some((cap, link, _, _))) = (k.left > 0, k.next_cap) {
                    let cap = f64::from_bits(cap);
                    if link != NONE && better(&best, cap, link) {
                        best = Some((cap, link, Pick::Cap(c)));
                    }
                }
            }
            match best {
                None => break,
                Some((share, _, Pick::Link(l))) => {
                    for i in 0..self.on_link[l as usize].len() {
                        let c = self.on_link[l as usize][i];
                        let k = &mut self.classes[c as usize];
                        let n = k.left;
                        if n == 0 {
                            continue;
                        }
                        k.left = 0;
                        k.rate = Some(share);
                        for &m in k.key.iter() {
                            let m = m as usize;
                            self.left[m] -= n;
                            if self.left[m] > 0 {
                                for _ in 0..n {
                                    self.residual[m] -= share;
                                }
                            }
                        }
                    }
                }
                Some((cap, _, Pick::Cap(c))) => {
                    let k = &mut self.classes[c as usize];
                    for &m in k.key.iter() {
                        self.residual[m as usize] -= cap;
                        self.left[m as usize] -= 1;
                    }
                    k.left -= 1;
                    k.n_capped += 1;
                    let m = k.next_cap.expect("picked");
                    k.next_cap = k.members.range((Excluded(m), Unbounded)).next().copied();
                }
            }
        }
    }

    /// Heap bytes held, roughly (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        let members: usize = self.classes.iter().map(|k| k.members.len()).sum();
        self.classes.capacity() * std::mem::size_of::<Class>()
            + members * 2 * std::mem::size_of::<Member>()
            + self.on_link.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.residual.capacity() * 16
    }
}
