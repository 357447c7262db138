//! vmagent's queue per remote-write URL: the in-memory channel in front of the on-disk
//! persistent queue (`lib/persistentqueue/fastqueue.go: FastQueue`, `persistentqueue.go:
//! queue`), with the disk cap that drops the oldest blocks.
//!
//! Blocks are never modelled one by one: a *run* is `n` consecutive blocks of the same
//! size, cut from consecutive samples, so a flush that produces hundreds of blocks is one
//! entry, and dropping the oldest `k` blocks is arithmetic on the front run. Disk offsets are
//! kept exactly (each record is an 8-byte length plus the block; a writer that could not fit
//! a 32 MiB block in the current 512 MiB chunk file jumps to the next one, and the skipped
//! tail counts as pending), because the cap compares offsets, not sizes.

use super::flags::{CHUNK_FILE_SIZE, MAX_QUEUE_BLOCK_SIZE, VmVersion};
use std::collections::VecDeque;

/// Record header on disk: the block length, 8 bytes big-endian.
pub const RECORD_HEADER: u64 = 8;
/// `FastQueue` moves the in-memory blocks to disk when none was read for this long (Unix
/// seconds): a stalled remote sends its data to disk within ~5 s.
pub const SPILL_AFTER_SECS: u64 = 5;

/// One block taken by a worker: samples `[lo, lo + rows)`, `bytes` compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// First sample (position in the workload).
    pub lo: u64,
    /// Samples.
    pub rows: u64,
    /// Compressed size.
    pub bytes: u64,
    /// Where it came from: its disk offset and the metainfo epoch it was read in (a crash
    /// before the next per-second sync re-reads it), or `None` from memory.
    pub disk: Option<(u64, u64)>,
}

/// `n` consecutive blocks of `rows` samples and `bytes` bytes each, from sample `lo`; on disk
/// the first starts at offset `off` and the others follow at `bytes + 8` strides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// First sample.
    pub lo: u64,
    /// Samples per block.
    pub rows: u64,
    /// Compressed bytes per block.
    pub bytes: u64,
    /// Blocks.
    pub n: u64,
    off: u64,
}

impl Run {
    /// `n` blocks of `rows` samples from `lo`, `bytes` each.
    pub fn new(lo: u64, rows: u64, bytes: u64, n: u64) -> Run {
        Run { lo, rows, bytes, n, off: 0 }
    }
    fn stride(&self) -> u64 {
        self.bytes + RECORD_HEADER
    }
    /// Splits off the first `k` blocks.
    fn take_front(&mut self, k: u64) -> Run {
        let front = Run { n: k, ..*self };
        self.lo += k * self.rows;
        self.off += k * self.stride();
        self.n -= k;
        front
    }
    fn samples(&self) -> u64 {
        self.n * self.rows
    }
}

/// Blocks that left the queue without being sent: `[lo, hi)` held `samples` samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loss {
    /// First sample.
    pub lo: u64,
    /// End (exclusive).
    pub hi: u64,
    /// Samples.
    pub samples: u64,
    /// Blocks.
    pub blocks: u64,
    /// Compressed bytes.
    pub bytes: u64,
    /// Whether vmagent counts it (`vm_persistentqueue_blocks_dropped_total`): the cap's
    /// oldest-block drops are counted, a block larger than the whole cap vanishes uncounted.
    pub counted: bool,
}

impl Loss {
    fn of(r: &Run, counted: bool) -> Loss {
        Loss { lo: r.lo, hi: r.lo + r.samples(), samples: r.samples(), blocks: r.n, bytes: r.n * r.bytes, counted }
    }
}

/// The persistent queue's counters (`vm_persistentqueue_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiskCounters {
    /// `blocks_written_total`.
    pub blocks_written: u64,
    /// `bytes_written_total`.
    pub bytes_written: u64,
    /// `blocks_read_total`.
    pub blocks_read: u64,
    /// `bytes_read_total`.
    pub bytes_read: u64,
    /// `blocks_dropped_total`: disk-cap drops.
    pub blocks_dropped: u64,
    /// `bytes_dropped_total` (headers not included).
    pub bytes_dropped: u64,
    /// Blocks larger than the whole cap, dropped with no counter (vmagent counts none).
    pub blocks_dropped_uncounted: u64,
}

/// The queue of one URL.
#[derive(Clone, Debug)]
pub struct FastQueue {
    version: VmVersion,
    /// `maxInmemoryBlocks`.
    max_mem: u64,
    /// Effective `-remoteWrite.maxDiskUsagePerURL` (0 = unlimited).
    cap: u64,
    mem: VecDeque<Run>,
    mem_blocks: u64,
    mem_bytes: u64,
    mem_samples: u64,
    disk: VecDeque<Run>,
    disk_blocks: u64,
    disk_samples: u64,
    writer: u64,
    last_inmem_read_sec: u64,
    /// Per-second metainfo sync: the Unix second of the last one and the writer offset then.
    sync_sec: u64,
    synced_writer: u64,
    /// Counters.
    pub c: DiskCounters,
}

impl FastQueue {
    /// An empty queue opened at Unix second `sec`.
    pub fn new(version: VmVersion, max_mem: u64, cap: u64, sec: u64) -> Self {
        FastQueue {
            version,
            max_mem,
            cap,
            mem: VecDeque::new(),
            mem_blocks: 0,
            mem_bytes: 0,
            mem_samples: 0,
            disk: VecDeque::new(),
            disk_blocks: 0,
            disk_samples: 0,
            writer: 0,
            last_inmem_read_sec: sec,
            sync_sec: sec,
            synced_writer: 0,
            c: DiskCounters::default(),
        }
    }

    /// Blocks in memory (`vmagent_remotewrite_pending_inmemory_blocks`).
    pub fn mem_blocks(&self) -> u64 {
        self.mem_blocks
    }
    /// Compressed bytes in memory.
    pub fn mem_bytes(&self) -> u64 {
        self.mem_bytes
    }
    /// Blocks on disk.
    pub fn disk_blocks(&self) -> u64 {
        self.disk_blocks
    }
    /// Samples held in memory and on disk.
    pub fn held_samples(&self) -> u64 {
        self.mem_samples + self.disk_samples
    }
    /// Samples on disk.
    pub fn disk_samples(&self) -> u64 {
        self.disk_samples
    }
    fn reader(&self) -> u64 {
        self.disk.front().map_or(self.writer, |r| r.off)
    }
    /// `vm_persistentqueue_bytes_pending`: writer offset minus reader offset, headers and
    /// chunk tails included. This is what the cap limits.
    pub fn disk_pending_bytes(&self) -> u64 {
        self.writer - self.reader()
    }
    /// Bytes of the chunk files on the file system: a file is deleted only once the reader
    /// has passed it, so up to one chunk of read data stays (VictoriaMetrics#4195).
    pub fn disk_file_bytes(&self) -> u64 {
        self.writer - self.reader() / CHUNK_FILE_SIZE * CHUNK_FILE_SIZE
    }
    /// `vmagent_remotewrite_pending_data_bytes`: memory plus the file's pending bytes.
    pub fn pending_data_bytes(&self) -> u64 {
        self.mem_bytes + self.mem_blocks * RECORD_HEADER + self.disk_pending_bytes()
    }

    /// The metainfo is rewritten (with fsync) on the first read or write in a new second.
    fn sync(&mut self, sec: u64) {
        if sec != self.sync_sec {
            self.sync_sec = sec;
            self.synced_writer = self.writer;
        }
    }

    /// `MustWriteBlock` for a run of blocks at Unix second `sec`, in order: spill memory to
    /// disk if nothing was read from it for 5 s; behind a disk backlog, append to the file;
    /// a full channel moves entirely to disk. Returns the blocks the disk cap dropped.
    pub fn write(&mut self, run: Run, sec: u64, out: &mut Vec<Loss>) {
        if run.n == 0 {
            return;
        }
        if self.mem_blocks > 0 && sec >= self.last_inmem_read_sec + SPILL_AFTER_SECS {
            self.spill(sec, out);
        }
        if !self.disk.is_empty() {
            self.disk_append(run, sec, out);
            return;
        }
        let free = self.max_mem - self.mem_blocks;
        if run.n <= free {
            self.mem_push(run);
            return;
        }
        let mut rest = run;
        if free > 0 {
            let first = rest.take_front(free);
            self.mem_push(first);
        }
        self.spill(sec, out);
        self.disk_append(rest, sec, out);
    }

    fn mem_push(&mut self, run: Run) {
        self.mem_blocks += run.n;
        self.mem_bytes += run.n * run.bytes;
        self.mem_samples += run.samples();
        match self.mem.back_mut() {
            Some(b) if b.rows == run.rows && b.bytes == run.bytes && b.lo + b.samples() == run.lo => b.n += run.n,
            _ => self.mem.push_back(run),
        }
    }

    /// Moves every in-memory block to the file, oldest first (the cap applies to each).
    pub fn spill(&mut self, sec: u64, out: &mut Vec<Loss>) {
        while let Some(r) = self.mem.pop_front() {
            self.mem_blocks -= r.n;
            self.mem_bytes -= r.n * r.bytes;
            self.mem_samples -= r.samples();
            self.disk_append(r, sec, out);
        }
    }

    /// `queue.MustWriteBlock` for each block of `run`: with a cap, first drop the oldest
    /// blocks while `writer − reader > cap − (len + 8)` (counted), and drop a block larger
    /// than the whole cap without a trace; the writer moves to the next chunk file when a
    /// 32 MiB block would not fit in this one.
    fn disk_append(&mut self, mut run: Run, sec: u64, out: &mut Vec<Loss>) {
        let need = run.stride();
        if self.cap > 0 && need > self.cap {
            self.c.blocks_dropped_uncounted += run.n;
            out.push(Loss::of(&run, false));
            return;
        }
        self.sync(sec);
        let last_fit = CHUNK_FILE_SIZE - MAX_QUEUE_BLOCK_SIZE - RECORD_HEADER;
        while run.n > 0 {
            let local = self.writer % CHUNK_FILE_SIZE;
            let local = if local > last_fit {
                self.writer += CHUNK_FILE_SIZE - local;
                0
            } else {
                local
            };
            let m = run.n.min((last_fit - local) / need + 1);
            let mut piece = run.take_front(m);
            piece.off = self.writer;
            self.c.blocks_written += m;
            self.c.bytes_written += m * piece.bytes;
            // Sequential writes with the same `need` drop exactly the blocks whose offset is
            // more than `cap − need` below the last block's: the condition only grows.
            if self.cap > 0 {
                let w_last = self.writer + (m - 1) * need;
                let limit = self.cap - need;
                if w_last > limit {
                    let thr = w_last - limit;
                    self.drop_disk_before(thr, out);
                    if thr > piece.off {
                        let k = (thr - piece.off).div_ceil(need).min(m - 1);
                        if k > 0 {
                            let gone = piece.take_front(k);
                            self.count_drop(&gone, out);
                        }
                    }
                }
            }
            self.writer += m * need;
            self.disk_blocks += piece.n;
            self.disk_samples += piece.samples();
            match self.disk.back_mut() {
                Some(b)
                    if b.rows == piece.rows
                        && b.bytes == piece.bytes
                        && b.lo + b.samples() == piece.lo
                        && b.off + b.n * need == piece.off =>
                {
                    b.n += piece.n
                }
                _ => self.disk.push_back(piece),
            }
        }
    }

    fn count_drop(&mut self, r: &Run, out: &mut Vec<Loss>) {
        self.c.blocks_dropped += r.n;
        self.c.bytes_dropped += r.n * r.bytes;
        out.push(Loss::of(r, true));
    }

    /// Drops (counted) every disk block whose offset is below `thr`, oldest first.
    fn drop_disk_before(&mut self, thr: u64, out: &mut Vec<Loss>) {
        while let Some(front) = self.disk.front_mut() {
            if front.off >= thr {
                break;
            }
            let k = (thr - front.off).div_ceil(front.stride()).min(front.n);
            let gone = front.take_front(k);
            if front.n == 0 {
                self.disk.pop_front();
            }
            self.disk_blocks -= gone.n;
            self.disk_samples -= gone.samples();
            self.count_drop(&gone, out);
        }
    }

    /// `MustReadBlock` without waiting: the oldest block, from memory first (1.79) or from
    /// the file first (current; with the invariant "memory is empty while the file holds
    /// data" both are FIFO).
    pub fn read(&mut self, sec: u64) -> Option<Block> {
        let disk_first = self.version == VmVersion::Current;
        if disk_first && !self.disk.is_empty() {
            return self.read_disk(sec);
        }
        if let Some(front) = self.mem.front_mut() {
            let one = front.take_front(1);
            if front.n == 0 {
                self.mem.pop_front();
            }
            self.mem_blocks -= 1;
            self.mem_bytes -= one.bytes;
            self.mem_samples -= one.rows;
            self.last_inmem_read_sec = sec;
            return Some(Block { lo: one.lo, rows: one.rows, bytes: one.bytes, disk: None });
        }
        self.read_disk(sec)
    }

    fn read_disk(&mut self, sec: u64) -> Option<Block> {
        self.sync(sec);
        let front = self.disk.front_mut()?;
        let one = front.take_front(1);
        if front.n == 0 {
            self.disk.pop_front();
        }
        self.disk_blocks -= 1;
        self.disk_samples -= one.rows;
        self.c.blocks_read += 1;
        self.c.bytes_read += one.bytes;
        Some(Block { lo: one.lo, rows: one.rows, bytes: one.bytes, disk: Some((one.off, self.sync_sec)) })
    }

    /// A worker gives a block back (graceful stop after a failed or unfinished send):
    /// written again like a new block, so it goes behind what is queued.
    pub fn write_back(&mut self, b: Block, sec: u64, out: &mut Vec<Loss>) {
        self.write(Run::new(b.lo, b.rows, b.bytes, 1), sec, out);
    }

    /// `FastQueue.MustClose`: every in-memory block goes to the file.
    pub fn close(&mut self, sec: u64, out: &mut Vec<Loss>) {
        self.spill(sec, out);
    }

    /// A kill: the channel is gone, file data written since the last per-second sync is
    /// gone (the writer reopens at the synced offset), and blocks in flight that were read
    /// since that sync are read again (the reader reopens before them). Returns what was
    /// lost; `inflight` holds the blocks the workers had, of which those not re-read are
    /// lost too.
    pub fn crash(&mut self, inflight: &[Block], sec: u64) -> Vec<Loss> {
        let mut lost = Vec::new();
        for r in self.mem.drain(..) {
            lost.push(Loss::of(&r, false));
        }
        self.mem_blocks = 0;
        self.mem_bytes = 0;
        self.mem_samples = 0;
        // Unsynced tail of the file.
        while let Some(back) = self.disk.back_mut() {
            if back.off + back.n * back.stride() <= self.synced_writer {
                break;
            }
            let keep = if back.off >= self.synced_writer {
                0
            } else {
                (self.synced_writer - back.off).div_ceil(back.stride()).min(back.n)
            };
            let mut gone = *back;
            gone.take_front(keep);
            back.n = keep;
            if back.n == 0 {
                self.disk.pop_back();
            }
            self.disk_blocks -= gone.n;
            self.disk_samples -= gone.samples();
            lost.push(Loss::of(&gone, false));
        }
        self.writer = self.synced_writer.max(self.disk.back().map_or(0, |b| b.off + b.n * b.stride()));
        let mut reread: Vec<(u64, Block)> = Vec::new();
        for b in inflight {
            match b.disk {
                Some((off, epoch)) if epoch == self.sync_sec && off < self.synced_writer => reread.push((off, *b)),
                _ => lost.push(Loss {
                    lo: b.lo,
                    hi: b.lo + b.rows,
                    samples: b.rows,
                    blocks: 1,
                    bytes: b.bytes,
                    counted: false,
                }),
            }
        }
        reread.sort_by_key(|(off, _)| std::cmp::Reverse(*off));
        for (off, b) in reread {
            self.disk.push_front(Run { lo: b.lo, rows: b.rows, bytes: b.bytes, n: 1, off });
            self.disk_blocks += 1;
            self.disk_samples += b.rows;
        }
        self.last_inmem_read_sec = sec;
        lost
    }

    /// The process starts again at `sec` with what is on disk.
    pub fn reopen(&mut self, sec: u64) {
        self.last_inmem_read_sec = sec;
        self.sync_sec = sec;
        self.synced_writer = self.writer;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(cap: u64, max_mem: u64) -> FastQueue {
        FastQueue::new(VmVersion::V1_79, max_mem, cap, 0)
    }

    /// D.3 vector 5: cap 10,000,000 with 9 blocks of 1,000,000 on disk (9,000,072 pending);
    /// a new block drops exactly one (the oldest), then pending is 9,000,072 again.
    #[test]
    fn cap_drops_the_oldest_block_per_new_block() {
        let mut fq = q(10_000_000, 2);
        let mut out = Vec::new();
        fq.spill(0, &mut out);
        fq.disk_append(Run::new(0, 100, 1_000_000, 9), 0, &mut out);
        assert!(out.is_empty());
        assert_eq!(fq.disk_pending_bytes(), 9_000_072);
        fq.write(Run::new(900, 100, 1_000_000, 1), 1, &mut out);
        assert_eq!(out, vec![Loss { lo: 0, hi: 100, samples: 100, blocks: 1, bytes: 1_000_000, counted: true }]);
        assert_eq!((fq.c.blocks_dropped, fq.c.bytes_dropped), (1, 1_000_000));
        assert_eq!(fq.disk_pending_bytes(), 9_000_072);
        // Steady state: one old block per new block, always the oldest timestamps.
        out.clear();
        fq.write(Run::new(1000, 100, 1_000_000, 3), 2, &mut out);
        assert_eq!(out.iter().map(|l| (l.lo, l.blocks)).collect::<Vec<_>>(), vec![(100, 3)]);
        assert_eq!(fq.held_samples(), 900);
    }

    /// A block larger than the whole cap is dropped and counted nowhere in vmagent.
    #[test]
    fn a_block_larger_than_the_cap_vanishes_uncounted() {
        let mut fq = q(1000, 2);
        let mut out = Vec::new();
        fq.spill(0, &mut out);
        fq.disk_append(Run::new(0, 10, 2000, 1), 0, &mut out);
        assert_eq!(out.len(), 1);
        assert!(!out[0].counted);
        assert_eq!((fq.c.blocks_dropped, fq.c.blocks_dropped_uncounted), (0, 1));
    }

    /// D.3 vector 7: blocks stay in memory until the first write 5 s (Unix seconds) after the
    /// last in-memory read; then all go to the file, and later blocks follow them there.
    #[test]
    fn memory_spills_to_disk_five_seconds_after_the_last_read() {
        let mut fq = q(0, 100);
        let mut out = Vec::new();
        for s in 0..5 {
            fq.write(Run::new(s * 10, 10, 100, 1), s, &mut out);
        }
        assert_eq!((fq.mem_blocks(), fq.disk_blocks()), (5, 0));
        fq.write(Run::new(50, 10, 100, 1), 5, &mut out);
        assert_eq!((fq.mem_blocks(), fq.disk_blocks()), (0, 6));
        fq.write(Run::new(60, 10, 100, 1), 6, &mut out);
        assert_eq!((fq.mem_blocks(), fq.disk_blocks()), (0, 7));
        // FIFO: the oldest block comes out first.
        assert_eq!(fq.read(7).unwrap().lo, 0);
        assert!(out.is_empty());
    }

    /// A full channel moves to disk at once, before the 5 s.
    #[test]
    fn a_full_channel_moves_to_disk() {
        let mut fq = q(0, 2);
        let mut out = Vec::new();
        fq.write(Run::new(0, 10, 100, 3), 0, &mut out);
        assert_eq!((fq.mem_blocks(), fq.disk_blocks()), (0, 3));
    }

    /// The writer skips the tail of a chunk file that cannot take a 32 MiB block, and that
    /// tail counts as pending.
    #[test]
    fn chunk_tails_count_as_pending() {
        let mut fq = q(0, 2);
        let mut out = Vec::new();
        let bytes = 10 << 20;
        let per_chunk = (CHUNK_FILE_SIZE - MAX_QUEUE_BLOCK_SIZE - RECORD_HEADER) / (bytes + 8) + 1;
        fq.spill(0, &mut out);
        fq.disk_append(Run::new(0, 1, bytes, per_chunk + 1), 0, &mut out);
        assert_eq!(fq.disk_pending_bytes(), CHUNK_FILE_SIZE + bytes + 8);
        assert_eq!(fq.disk_blocks(), per_chunk + 1);
    }

    /// A kill loses memory and the unsynced file tail; the synced file survives.
    #[test]
    fn a_crash_keeps_only_the_synced_file() {
        let mut fq = q(0, 100);
        let mut out = Vec::new();
        fq.write(Run::new(0, 10, 100, 3), 0, &mut out);
        fq.write(Run::new(30, 10, 100, 1), 5, &mut out); // spill: 4 blocks on disk, synced at 5 before
        fq.write(Run::new(40, 10, 100, 1), 6, &mut out); // sync at 6: the 4 are safe
        let lost = fq.crash(&[], 6);
        assert_eq!(lost.iter().map(|l| l.samples).sum::<u64>(), 10);
        assert_eq!(fq.held_samples(), 40);
    }
}
