// What a replica reads of the batch a PRE-PREPARE or GLOBAL-SHARE carries, read once per message
// and shared (request ids, results, reply reports), and the compact form a kept proposal's batch
// takes (CompactBatch). See message.h.
#include <algorithm>
#include <bit>
#include <string>
#include <vector>

#include "protocol/message.h"

namespace geopbft {

namespace {
// The PRE-PREPARE whose batch `m` carries (itself, or a GLOBAL-SHARE's source), or null.
const Message* BatchOwner(const Message& m) {
  if (m.type == MsgType::kGlobalShare && m.batch_source) return m.batch_source.get();
  return m.type == MsgType::kPrePrepare ? &m : nullptr;
}

// Puts back what CompactBatch took from `pp` (a PRE-PREPARE), as it was: requests parsed from their
// own bytes, their digests taken again (as DecodeMessage does), their ids read again; results are
// worked out again when asked for (BatchResults). (Written through a shared, const message, as
// SealedEnvelope writes a reply: nothing runs in between, the simulator is single-threaded.)
void RestoreBatch(const Message& pp) {
  Message::Memo::BatchReading& reading = *pp.memo.batch;
  Message& w = const_cast<Message&>(pp);
  wire::Batch* batch = w.env.mutable_pre_prepare()->mutable_batch();
  batch->MergeFromString(reading.compacted_requests);  // (the field's records: appended in order)
  w.request_digests.reserve(static_cast<size_t>(batch->requests_size()));
  for (const wire::SignedRequest& sr : batch->requests()) {
    w.request_digests.push_back(BodyDigest(sr.request().SerializeAsString(), reading.mode));
  }
  std::string().swap(reading.compacted_requests);
  reading.compacted = false;
}

}  // namespace

void RestoreCompactedBatch(const Message& m) {
  const Message* pp = BatchOwner(m);
  if (pp != nullptr && pp->memo.batch && pp->memo.batch->compacted) RestoreBatch(*pp);
}

const wire::Batch* CarriedBatch(const Message& m) {
  RestoreCompactedBatch(m);
  return CarriedBatchHead(m);
}

const wire::Batch* CarriedBatchHead(const Message& m) {
  if (m.type == MsgType::kPrePrepare) return &m.env.pre_prepare().batch();
  if (m.type == MsgType::kGlobalShare) {
    return m.batch_source ? &m.batch_source->env.pre_prepare().batch() : &m.env.global_share().batch();
  }
  return nullptr;
}

namespace {
Message::Memo::BatchReading& BatchReadingOf(const Message& m) {
  // A share that carries its proposal's batch reads it through the proposal's memo: one reading
  // of each batch, where the proposal and its certificate each read it.
  if (m.batch_source) return BatchReadingOf(*m.batch_source);
  std::unique_ptr<Message::Memo::BatchReading>& reading = m.memo.batch;
  if (!reading) {
    reading = std::make_unique<Message::Memo::BatchReading>();
    if (const wire::Batch* batch = CarriedBatch(m)) {
      reading->request_ids.reserve(static_cast<size_t>(batch->requests_size()));
      for (const wire::SignedRequest& sr : batch->requests()) {
        reading->request_ids.push_back({sr.request().client(), sr.request().timestamp()});
      }
    }
  }
  return *reading;
}
}  // namespace

const std::vector<RequestId>& BatchRequestIds(const Message& m) { return BatchReadingOf(m).request_ids; }

void CompactBatch(const Message& m, CryptoMode mode) {
  const Message* pp = BatchOwner(m);
  if (pp == nullptr) return;
  Message::Memo::BatchReading& reading = BatchReadingOf(*pp);  // (its tally stays: a few counters)
  if (reading.compacted || pp->env.pre_prepare().batch().requests_size() == 0) return;
  Message& w = const_cast<Message&>(*pp);  // (see RestoreBatch)
  wire::Batch requests_only;
  requests_only.mutable_requests()->Swap(w.env.mutable_pre_prepare()->mutable_batch()->mutable_requests());
  requests_only.SerializeToString(&reading.compacted_requests);  // (sized exactly)
  reading.compacted = true;
  reading.mode = mode;
  std::vector<Digest>().swap(w.request_digests);
}

const std::vector<uint64_t>& BatchResults(const Message& m, uint64_t position) {
  Message::Memo::BatchReading& reading = BatchReadingOf(m);
  if (reading.results_position != position || reading.results.size() != reading.request_ids.size()) {
    reading.results_position = position;
    reading.results.clear();
    reading.results.reserve(reading.request_ids.size());
    for (const RequestId& r : reading.request_ids)
      reading.results.push_back(ExecutionResult(position, r.client, r.timestamp));
  }
  return reading.results;
}

ReplyTally TallyReplyReports(const wire::Batch& batch) {
  ReplyTally t;
  for (const wire::SignedRequest& sr : batch.requests()) {
    const wire::Request& r = sr.request();
    if (r.answered_ts() == 0) continue;
    ++t.reports;
    // The set bits only (a byte at a time): most replicas answer, few bytes per report.
    const std::string& bits = r.answered();
    if (t.answered.size() < 8 * bits.size()) t.answered.resize(8 * bits.size(), 0);
    for (size_t k = 0; k < bits.size(); ++k) {
      for (unsigned b = static_cast<unsigned char>(bits[k]); b != 0; b &= b - 1) {
        ++t.answered[8 * k + static_cast<size_t>(std::countr_zero(b))];
      }
    }
  }
  return t;
}

const ReplyTally& BatchReplyTally(const Message& m) {
  Message::Memo::BatchReading& reading = BatchReadingOf(m);
  if (!reading.tallied) {
    reading.tallied = true;
    if (const wire::Batch* batch = CarriedBatch(m)) reading.tally = TallyReplyReports(*batch);
  }
  return reading.tally;
}

}  // namespace geopbft
