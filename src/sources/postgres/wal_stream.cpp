#include "sources/postgres/wal_stream.h"

#include <sys/select.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <thread>

#include "repo/wal_names.h"
#include "sources/postgres/pg_conn.h"
#include "sources/postgres/wal_archive.h"
#include "util/cancel.h"
#include "util/error.h"

namespace arca {

namespace {

using Clock = std::chrono::steady_clock;

// Problems a new connection may cure (server restarting, network); anything else stops.
struct Retryable : Error {
  explicit Retryable(const std::string& m) : Error(ErrorKind::Unreachable, m) {}
};

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

void put_be64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = uint8_t(v);
}

// Microseconds since 2000-01-01, the replication protocol's clock.
uint64_t pg_now() {
  using namespace std::chrono;
  auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  return uint64_t(us - 946684800LL * 1000000LL);
}

struct PgFree {
  void operator()(char* p) const { PQfreemem(p); }
};

class Session {
 public:
  Session(Repository& repo, const WalStreamOptions& o, WalStreamStatus& st, const std::atomic<bool>& stop,
          const std::function<void(const std::string&)>& log)
      : repo_(repo), o_(o), st_(st), stop_(stop), log_(log) {}

  void run() {
    std::unique_ptr<PgConn> conn;
    try {
      conn = std::make_unique<PgConn>(o_.conninfo, PgConn::Mode::Replication);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Auth || e.kind() == ErrorKind::Usage) throw;
      throw Retryable(e.what());
    }
    conn_ = conn.get();
    PgResult ident = conn_->exec("IDENTIFY_SYSTEM", "IDENTIFY_SYSTEM");
    std::string who = "IDENTIFY_SYSTEM from " + conn_->describe();
    uint64_t sysid = pg_number(PQgetvalue(ident.get(), 0, 0), who + ", system identifier");
    tli_ = uint32_t(pg_number(PQgetvalue(ident.get(), 0, 1), who + ", timeline"));
    Lsn server_pos = parse_lsn(PQgetvalue(ident.get(), 0, 2));
    st_.server_lsn = server_pos;
    std::string segsz = conn_->value("SHOW wal_segment_size", "SHOW wal_segment_size");
    uint64_t seg_n = pg_number(segsz.substr(0, segsz.find_first_not_of("0123456789")), "SHOW wal_segment_size");
    seg_size_ = seg_n << (segsz.find("GB") != std::string::npos ? 30 : segsz.find("MB") != std::string::npos ? 20 : 10);
    archive_ = std::make_unique<WalArchive>(repo_, sysid);

    // After a promotion the timeline's history file must be archived too, or a restore cannot
    // follow the switch.
    if (tli_ > 1) {
      PgResult h = conn_->exec("TIMELINE_HISTORY " + std::to_string(tli_), "fetching the timeline history");
      std::string content(PQgetvalue(h.get(), 0, 1), size_t(PQgetlength(h.get(), 0, 1)));
      archive_->push(PQgetvalue(h.get(), 0, 0), as_view(content));
      // Its last line is "<parent timeline>\t<switch LSN>\t<reason>": this timeline's WAL starts there.
      std::istringstream lines(content);
      for (std::string line; std::getline(lines, line);) {
        std::istringstream l(line);
        std::string parent, lsn;
        if (line.empty() || line[0] == '#' || !(l >> parent >> lsn)) continue;
        try {
          switch_lsn_ = parse_lsn(lsn);
        } catch (const Error&) {}
      }
    }
    std::optional<Lsn> slot_restart = ensure_slot();
    Lsn start = resume_point(server_pos, slot_restart);
    std::string cmd =
        "START_REPLICATION SLOT " + o_.slot + " PHYSICAL " + format_lsn(start) + " TIMELINE " + std::to_string(tli_);
    PgResult r(PQexec(conn_->get(), cmd.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_BOTH) {
      std::string msg = PQresultErrorMessage(r.get());
      throw Error(ErrorKind::Generic, "the server refused to stream WAL from " + format_lsn(start) + ": " + msg);
    }
    touch();
    st_.streaming = true;
    log_("streaming WAL from " + format_lsn(start) + " on timeline " + std::to_string(tli_) + " (slot " + o_.slot +
         ")");
    try {
      loop();
    } catch (const Retryable&) {
      flush_piece();  // what arrived before the break is valid WAL: keep it
      throw;
    }
    flush_piece();
    send_status(false);
  }

 private:
  void touch() { st_.last_contact_ns = Clock::now().time_since_epoch().count(); }

  std::optional<Lsn> ensure_slot() {
    if (conn_->server_version() < 150000) {
      // "already exists" is fine here; any other problem shows when streaming starts.
      if (o_.create_slot)
        PgResult(PQexec(conn_->get(), ("CREATE_REPLICATION_SLOT " + o_.slot + " PHYSICAL RESERVE_WAL").c_str()));
      return std::nullopt;
    }
    PgResult r = conn_->exec("READ_REPLICATION_SLOT " + o_.slot, "reading replication slot " + o_.slot);
    bool exists = PQntuples(r.get()) > 0 && !PQgetisnull(r.get(), 0, 0);
    if (!exists) {
      if (!o_.create_slot)
        throw Error(ErrorKind::Usage,
                    "replication slot '" + o_.slot + "' does not exist on " + conn_->describe() +
                        ": pass --create-slot (a slot makes the server keep WAL until Arca has stored it)");
      conn_->exec("CREATE_REPLICATION_SLOT " + o_.slot + " PHYSICAL RESERVE_WAL",
                  "creating replication slot " + o_.slot);
      log_("created replication slot " + o_.slot);
      return std::nullopt;
    }
    if (std::string(PQgetvalue(r.get(), 0, 0)) != "physical")
      throw Error(ErrorKind::Usage, "replication slot '" + o_.slot + "' is not a physical slot");
    if (PQgetisnull(r.get(), 0, 1)) return std::nullopt;
    return parse_lsn(PQgetvalue(r.get(), 0, 1));
  }

  // Where to continue: after what the archive holds on this timeline, else the slot's position,
  // else the start of the server's current segment.
  Lsn resume_point(Lsn server_pos, std::optional<Lsn> slot_restart) {
    std::optional<uint64_t> last_full, last_piece_seg;
    for (const auto& w : archive_->list()) {
      if (w.timeline != tli_) continue;
      const std::string& base = w.piece ? w.segment : w.file;
      auto n = parse_wal_file_name(base, seg_size_);
      if (!n || (n->kind != WalFileName::Kind::Segment)) continue;
      if (w.piece)
        last_piece_seg = std::max(last_piece_seg.value_or(0), n->segno);
      else
        last_full = std::max(last_full.value_or(0), n->segno);
    }
    Lsn start;
    bool have_buffer = false;
    if (last_piece_seg && (!last_full || *last_piece_seg > *last_full)) {
      start_segment(*last_piece_seg);
      for (const auto& [off, name] : archive_->pieces(seg_name_)) {
        if (off != cur_end_) break;
        Bytes b = repo_.load_object(name);
        size_t n = std::min<size_t>(b.size(), buf_.size() - off);
        std::memcpy(buf_.data() + off, b.data(), n);
        cur_end_ += uint32_t(n);
      }
      flushed_ = cur_end_;
      start = segno_ * seg_size_ + cur_end_;
      have_buffer = true;
    } else if (last_full) {
      start = (*last_full + 1) * seg_size_;
    } else if (switch_lsn_) {
      // A timeline new to the archive (after a promotion): from where it branched, or the
      // segments between the switch and now would never be archived.
      start = *switch_lsn_ / seg_size_ * seg_size_;
    } else {
      start = (slot_restart ? *slot_restart : server_pos) / seg_size_ * seg_size_;
    }
    if (slot_restart && start < *slot_restart / seg_size_ * seg_size_) {
      log_("WARNING: the archive ends at " + format_lsn(start) + " but the server only has WAL from " +
           format_lsn(*slot_restart) + ": 'arca pg check' will show the gap");
      start = *slot_restart / seg_size_ * seg_size_;
      have_buffer = false;
    }
    if (start > server_pos) {  // the archive is ahead of the server (a rewound or restored server)
      start = server_pos / seg_size_ * seg_size_;
      have_buffer = false;
    }
    if (!have_buffer) start_segment(start / seg_size_);  // segment-aligned: nothing before it is needed
    st_.flushed_lsn = start;
    return start;
  }

  void start_segment(uint64_t segno) {
    segno_ = segno;
    seg_name_ = wal_segment_name(tli_, segno, seg_size_);
    buf_.assign(seg_size_, 0);
    cur_end_ = flushed_ = 0;
  }

  void flush_piece() {
    if (!archive_ || cur_end_ <= flushed_) return;
    archive_->push_piece(seg_name_, flushed_, ByteView(buf_.data() + flushed_, cur_end_ - flushed_));
    flushed_ = cur_end_;
    st_.pieces++;
    st_.flushed_lsn = segno_ * seg_size_ + cur_end_;
  }

  void complete_segment() {
    archive_->push(seg_name_, buf_);
    archive_->remove_pieces(seg_name_);
    st_.segments++;
    st_.flushed_lsn = (segno_ + 1) * seg_size_;
    start_segment(segno_ + 1);
  }

  void data(Lsn start, const uint8_t* p, size_t len) {
    while (len > 0) {
      uint64_t seg = start / seg_size_;
      uint32_t off = uint32_t(start % seg_size_);
      if (seg != segno_) {
        if (seg < segno_) return;  // resent WAL we already hold
        throw Error(ErrorKind::Corrupt, "the server sent WAL at " + format_lsn(start) + " but segment " + seg_name_ +
                                            " is incomplete: WAL would be missing");
      }
      if (off > cur_end_)
        throw Error(ErrorKind::Corrupt, "the server skipped WAL from " + format_lsn(segno_ * seg_size_ + cur_end_) +
                                            " to " + format_lsn(start));
      size_t n = std::min<size_t>(len, seg_size_ - off);
      std::memcpy(buf_.data() + off, p, n);
      cur_end_ = std::max<uint32_t>(cur_end_, uint32_t(off + n));
      st_.received += n;
      start += n;
      p += n;
      len -= n;
      if (cur_end_ == seg_size_) complete_segment();
    }
  }

  void send_status(bool reply) {
    uint8_t msg[34];
    msg[0] = 'r';
    Lsn written = segno_ * seg_size_ + cur_end_, flushed = st_.flushed_lsn;
    put_be64(msg + 1, written);
    put_be64(msg + 9, flushed);
    put_be64(msg + 17, flushed);
    put_be64(msg + 25, pg_now());
    msg[33] = reply ? 1 : 0;
    if (PQputCopyData(conn_->get(), reinterpret_cast<const char*>(msg), sizeof msg) <= 0 || PQflush(conn_->get()) != 0)
      throw Retryable("sending a status update to the server failed: " + conn_->last_error());
  }

  void loop() {
    auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.flush_interval));
    auto next_flush = Clock::now() + interval;
    auto next_status = Clock::now() + std::chrono::seconds(10);
    while (!stop_ && !cancel_requested(o_.cancel)) {
      char* raw = nullptr;
      int n = PQgetCopyData(conn_->get(), &raw, 1);
      std::unique_ptr<char, PgFree> buf(raw);
      if (n == 0) {
        auto now = Clock::now();
        auto wait = std::min(next_flush, next_status) - now;
        if (wait > std::chrono::milliseconds(200)) wait = std::chrono::milliseconds(200);  // notice `stop` soon
        if (wait.count() > 0) {
          int fd = PQsocket(conn_->get());
          fd_set fds;
          FD_ZERO(&fds);
          FD_SET(fd, &fds);
          timeval tv{0, suseconds_t(std::chrono::duration_cast<std::chrono::microseconds>(wait).count())};
          select(fd + 1, &fds, nullptr, nullptr, &tv);
        }
        if (!PQconsumeInput(conn_->get())) throw Retryable("the connection broke: " + conn_->last_error());
      } else if (n == -1) {
        // The server ended the stream: a timeline switch (promotion) or shutdown.
        PgResult r(PQgetResult(conn_->get()));
        log_("the server ended the WAL stream on timeline " + std::to_string(tli_) + "; reconnecting");
        throw Retryable("stream ended");
      } else if (n == -2) {
        throw Retryable("the connection broke: " + conn_->last_error());
      } else {
        touch();
        if (raw[0] == 'w' && n >= 25) {  // XLogData: start, the server's end of WAL, send time, then the WAL
          st_.server_lsn = be64(reinterpret_cast<uint8_t*>(raw) + 9);
          data(be64(reinterpret_cast<uint8_t*>(raw) + 1), reinterpret_cast<uint8_t*>(raw) + 25, size_t(n) - 25);
        } else if (raw[0] == 'k' && n >= 18) {  // keepalive: the server's end of WAL, send time, reply wanted
          st_.server_lsn = be64(reinterpret_cast<uint8_t*>(raw) + 1);
          if (raw[17]) send_status(false);
        }
      }
      auto now = Clock::now();
      if (now >= next_flush) {
        flush_piece();
        send_status(false);
        next_flush = now + interval;
        next_status = now + std::chrono::seconds(10);
      } else if (now >= next_status) {
        send_status(false);
        next_status = now + std::chrono::seconds(10);
      }
    }
  }

  Repository& repo_;
  const WalStreamOptions& o_;
  WalStreamStatus& st_;
  const std::atomic<bool>& stop_;
  const std::function<void(const std::string&)>& log_;
  PgConn* conn_ = nullptr;
  std::unique_ptr<WalArchive> archive_;
  uint32_t tli_ = 0;
  std::optional<Lsn> switch_lsn_;
  uint64_t seg_size_ = 16u << 20;
  uint64_t segno_ = 0;
  std::string seg_name_;
  Bytes buf_;
  uint32_t cur_end_ = 0, flushed_ = 0;
};

}  // namespace

void pg_wal_stream(Repository& repo, const WalStreamOptions& opts, WalStreamStatus& status,
                   const std::atomic<bool>& stop, const std::function<void(const std::string&)>& log) {
  status.last_contact_ns = Clock::now().time_since_epoch().count();
  // A cancel is this command's normal end, like `stop`: what was received is stored, no error.
  auto stopped = [&] { return stop || cancel_requested(opts.cancel); };
  while (!stopped()) {
    try {
      struct NotStreaming {  // whatever ends the session, before a retry waits
        WalStreamStatus& st;
        ~NotStreaming() { st.streaming = false; }
      } not_streaming{status};
      Session(repo, opts, status, stop, log).run();
    } catch (const Retryable& e) {
      // A stream is meant to outlive server restarts: keep trying unless told to give up.
      Clock::time_point last{Clock::duration(status.last_contact_ns.load())};
      double down = std::chrono::duration<double>(Clock::now() - last).count();
      if (opts.give_up_after > 0 && down > opts.give_up_after)
        throw Error(ErrorKind::Unreachable,
                    std::string("no WAL stream for ") + std::to_string(int(down)) + " s: " + e.what());
      char wait[32];
      std::snprintf(wait, sizeof wait, "%.1f", opts.retry_interval);
      log(std::string(e.what()) + "; retrying in " + wait + " s");
      status.reconnects++;
      auto until = Clock::now() +
                   std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts.retry_interval));
      while (!stopped() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace arca
