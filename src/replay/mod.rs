//! Offline replay: recorded telemetry (EVTX, JSON lines, auditd, ZIPs of
//! them) evaluated by the Sigma rules of [`detect`](crate::detect), with the
//! process chains rebuilt so a reader sees which hop of which chain alerted.
//!
//! [`telemetry::input`](crate::telemetry::input) reads and maps files,
//! [`session`] evaluates records as they stream and rebuilds process trees,
//! [`run`] ties the two together on two threads, and this module renders. It runs nothing and knows nothing of
//! runs, scenarios or verdicts: it answers "what would these rules have said
//! about this recording".

pub mod fail_on;
pub mod model;
pub mod render;
#[cfg(test)]
mod run_tests;
pub mod session;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, sync_channel};

pub use crate::telemetry::input::{Loaded, load};
pub use model::{Alert, Chain, Collect, Mapped, Node, Sink, Summary};
pub use session::{Options, Session};

use crate::detect::{Hit, Rules};
use crate::telemetry::{ReadError, input};

/// Records per message between threads: large enough that the channel
/// costs nothing per record, small enough to stay in cache.
const BATCH: usize = 1024;

/// Batches in flight per channel: each stage runs at most this far ahead,
/// which bounds the memory between them.
const DEPTH: usize = 4;

/// What the reader thread sends.
enum Message {
    /// Inputs from this index on come from this path.
    Name(usize, String),
    /// Mapped records, in reading order, with their Sigma hits once the
    /// rule stage has evaluated them.
    Batch(Vec<(Mapped, Vec<Hit>)>),
}

/// Replays `paths` (files, folders, ZIPs) through `rules` in three stages
/// on their own threads: reading and mapping, Sigma evaluation, and (on
/// this thread) the process table and chain analytics, alerts and chains
/// going to `sink` as trees close. Each stage costs about the same per
/// record, so on two cores the pipeline keeps both busy. A read error
/// stops the replay and is returned; what was evaluated before it has
/// reached `sink`.
pub fn run(
    paths: &[PathBuf],
    rules: &Rules,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<Summary, ReadError> {
    let (read_tx, read_rx) = sync_channel::<Message>(DEPTH);
    let (eval_tx, eval_rx) = sync_channel::<Message>(DEPTH);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read(paths, &read_tx));
        scope.spawn(move || {
            for mut message in read_rx {
                if let Message::Batch(batch) = &mut message {
                    for (m, hits) in batch.iter_mut() {
                        *hits = session::evaluate(rules, m);
                    }
                }
                // Fails only when the caller is gone, which it is not
                // before this thread ends.
                let _ = eval_tx.send(message);
            }
        });
        let mut session = Session::new(rules, options);
        for message in eval_rx {
            match message {
                Message::Name(first, name) => session.name_inputs(first, name),
                Message::Batch(batch) => {
                    for (m, hits) in batch {
                        session.push_evaluated(m, hits, sink);
                    }
                }
            }
        }
        let read = match reader.join() {
            Ok(read) => read,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // Even when reading failed, what was evaluated reaches the sink.
        let mut summary = session.finish(sink);
        summary.inputs = read?;
        Ok(summary)
    })
}

/// The reader stage: every path through [`input::stream`], in batches.
fn read(paths: &[PathBuf], tx: &SyncSender<Message>) -> Result<Vec<model::InputStats>, ReadError> {
    let mut inputs = Vec::new();
    for path in paths {
        let first = inputs.len();
        // A send fails only when the next stage is gone, which it is not
        // before this one ends.
        let _ = tx.send(Message::Name(first, path.display().to_string()));
        let mut batch = Vec::with_capacity(BATCH);
        let stats = input::stream(std::slice::from_ref(path), &mut |mut m| {
            m.input += first;
            batch.push((m, Vec::new()));
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                let _ = tx.send(Message::Batch(full));
            }
        });
        if !batch.is_empty() {
            let _ = tx.send(Message::Batch(batch));
        }
        inputs.extend(stats?);
    }
    Ok(inputs)
}
