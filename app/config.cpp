#include "app/config.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>

namespace troupe::app {

using domain::ErrorKind;
using domain::make_error;

namespace {

struct Option {
  const char* name;
  const char* help;
  std::function<domain::Status(Config&, const std::string&)> set;
  bool flag = false;  ///< may be given without a value (means "1")
};

domain::Error bad(const std::string& name, const std::string& why) {
  return make_error(ErrorKind::invalid_input, "--" + name + ": " + why);
}

std::function<domain::Status(Config&, const std::string&)> int_opt(int Config::*field,
                                                                   const char* name, long lo,
                                                                   long hi) {
  return [=](Config& c, const std::string& v) -> domain::Status {
    char* end = nullptr;
    errno = 0;
    long x = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || x < lo || x > hi)
      return bad(name, "expected an integer between " + std::to_string(lo) + " and " +
                         std::to_string(hi) + ", got '" + v + "'");
    c.*field = static_cast<int>(x);
    return domain::ok_status();
  };
}

std::function<domain::Status(Config&, const std::string&)> bool_opt(bool Config::*field,
                                                                    const char* name) {
  return [=](Config& c, const std::string& v) -> domain::Status {
    if (v == "1" || v == "true" || v == "yes" || v == "on") c.*field = true;
    else if (v == "0" || v == "false" || v == "no" || v == "off") c.*field = false;
    else return bad(name, "expected 1/0, true/false, yes/no, on/off");
    return domain::ok_status();
  };
}

std::function<domain::Status(Config&, const std::string&)> str_opt(std::string Config::*field) {
  return [=](Config& c, const std::string& v) -> domain::Status {
    c.*field = v;
    return domain::ok_status();
  };
}

const std::vector<Option>& options() {
  static const std::vector<Option> opts = {
    {"port", "HTTP port (default 8080)", int_opt(&Config::port, "port", 1, 65535)},
    {"bind", "address to listen on (default 127.0.0.1; 0.0.0.0 for all)", str_opt(&Config::bind)},
    {"data-dir", "embedded store directory (default ./data)", str_opt(&Config::data_dir)},
    {"config", "config file with 'key = value' lines", str_opt(&Config::config_file)},
    {"redis", "use Redis instead of the embedded store: redis://[:password@]host:port[/db]",
     str_opt(&Config::redis_url)},
    {"redis-password", "Redis password (prefer the environment variable)",
     str_opt(&Config::redis_password)},
    {"redis-prefix", "prefix of every Redis key (default troupe:)", str_opt(&Config::redis_prefix)},
    {"redis-timeout-ms", "timeout of one Redis command (default 1000)",
     int_opt(&Config::redis_timeout_ms, "redis-timeout-ms", 10, 600000)},
    {"enable-faults", "enable POST /admin/faults (fault injection; off by default)",
     bool_opt(&Config::enable_faults, "enable-faults"), true},
    {"gateway-journal",
     "file keeping the simulated payment gateway's books across restarts "
     "(default <data-dir>/gateway.journal)",
     str_opt(&Config::gateway_journal)},
    {"webhook-url", "also POST every customer notification (JSON) to this http:// URL, with retry",
     [](Config& c, const std::string& v) -> domain::Status {
       if (!v.empty() && v.rfind("http://", 0) != 0)
         return bad("webhook-url", "expected an http:// URL, got '" + v + "'");
       c.webhook_url = v;
       return domain::ok_status();
     }},
    {"webhook-timeout-ms", "timeout of one webhook POST (default 2000)",
     int_opt(&Config::webhook_timeout_ms, "webhook-timeout-ms", 10, 60000)},
    {"event-retention",
     "event-log entries kept behind the slowest subscriber; older ones are trimmed (default 100000)",
     int_opt(&Config::event_retention, "event-retention", 0, 100000000)},
    {"order-idle-ms",
     "an order at rest with no command this long is passivated: actor stopped, record kept, "
     "activated again on demand; 0 passivates it as soon as it comes to rest (default 0)",
     int_opt(&Config::order_idle_ms, "order-idle-ms", 0, 86400000)},
    {"resource-idle-ms",
     "a resource with nothing held or in flight and no command this long is passivated: actor "
     "stopped, activated again from the store on demand; 0 keeps every resource actor "
     "(default 300000)",
     int_opt(&Config::resource_idle_ms, "resource-idle-ms", 0, 86400000)},
    {"restart-max", "restarts a resource/order supervisor allows within the window (default 1000)",
     int_opt(&Config::restart_max, "restart-max", 1, 1000000)},
    {"restart-window-ms", "the restart intensity window (default 10000)",
     int_opt(&Config::restart_window_ms, "restart-window-ms", 100, 3600000)},
    {"http-threads", "HTTP handler threads = max concurrent keep-alive connections (default 256)",
     int_opt(&Config::http_threads, "http-threads", 4, 4096)},
    {"view-cache", "rendered mypage bodies kept until the customer's rows change, 0 = none (default 4096)",
     int_opt(&Config::view_cache, "view-cache", 0, 1000000)},
    {"body-limit", "largest request body in bytes, larger gets 413 (default 1048576)",
     [](Config& c, const std::string& v) -> domain::Status {
       char* end = nullptr;
       long x = std::strtol(v.c_str(), &end, 10);
       if (v.empty() || *end != '\0' || x < 1024 || x > (64L << 20))
         return bad("body-limit", "expected bytes between 1024 and 67108864");
       c.body_limit = x;
       return domain::ok_status();
     }},
    {"request-timeout-ms", "longest wait for the actors per request (default 20000; raised to an order's worst case)",
     int_opt(&Config::request_timeout_ms, "request-timeout-ms", 100, 600000)},
    {"io-timeout-s", "socket read/write timeout in seconds (default 5)",
     int_opt(&Config::io_timeout_s, "io-timeout-s", 1, 300)},
    {"payment-workers", "payment worker actors (default 8)",
     int_opt(&Config::payment_workers, "payment-workers", 1, 1024)},
    {"payment-latency-ms", "simulated gateway latency MIN,MAX in ms (default 0,0)",
     [](Config& c, const std::string& v) -> domain::Status {
       auto comma = v.find(',');
       std::string lo = comma == std::string::npos ? v : v.substr(0, comma);
       std::string hi = comma == std::string::npos ? v : v.substr(comma + 1);
       char *e1 = nullptr, *e2 = nullptr;
       long a = std::strtol(lo.c_str(), &e1, 10), b = std::strtol(hi.c_str(), &e2, 10);
       if (lo.empty() || hi.empty() || *e1 || *e2 || a < 0 || b < a || b > 600000)
         return bad("payment-latency-ms", "expected MIN,MAX with 0 <= MIN <= MAX <= 600000");
       c.payment_latency_min_ms = static_cast<int>(a);
       c.payment_latency_max_ms = static_cast<int>(b);
       return domain::ok_status();
     }},
    {"payment-failure-rate", "share of simulated payments declined, 0..1 (default 0)",
     [](Config& c, const std::string& v) -> domain::Status {
       char* end = nullptr;
       double x = std::strtod(v.c_str(), &end);
       if (v.empty() || *end != '\0' || !(x >= 0.0 && x <= 1.0))
         return bad("payment-failure-rate", "expected a number between 0 and 1");
       c.payment_failure_rate = x;
       return domain::ok_status();
     }},
    {"payment-timeout-ms", "timeout of one payment call (default 610)",
     int_opt(&Config::payment_timeout_ms, "payment-timeout-ms", 1, 600000)},
    {"breaker-failures", "consecutive payment failures that open the breaker (default 5)",
     int_opt(&Config::breaker_failures, "breaker-failures", 1, 100000)},
    {"breaker-window", "calls in the breaker's failure-rate window, at least (default 20; the window also holds every call of the last payment timeout)",
     int_opt(&Config::breaker_window, "breaker-window", 1, 100000)},
    {"breaker-failure-rate", "failure share of a full window that opens the breaker (default 0.5)",
     [](Config& c, const std::string& v) -> domain::Status {
       char* end = nullptr;
       double x = std::strtod(v.c_str(), &end);
       if (v.empty() || *end != '\0' || !(x > 0.0 && x <= 1.0))
         return bad("breaker-failure-rate", "expected a number in (0, 1]");
       c.breaker_failure_rate = x;
       return domain::ok_status();
     }},
    {"breaker-cool-down-ms", "first open period of the breaker (default 1000, doubles per failed trial)",
     int_opt(&Config::breaker_cool_down_ms, "breaker-cool-down-ms", 1, 3600000)},
    {"breaker-max-cool-down-ms", "longest open period (default 30000)",
     int_opt(&Config::breaker_max_cool_down_ms, "breaker-max-cool-down-ms", 1, 3600000)},
    {"store-timeout-ms", "timeout of one durable write (default 3000)",
     int_opt(&Config::store_timeout_ms, "store-timeout-ms", 10, 600000)},
    {"actor-timeout-ms", "timeout of one actor-to-actor request (default 2000)",
     int_opt(&Config::actor_timeout_ms, "actor-timeout-ms", 10, 600000)},
    {"caf-threads", "actor scheduler threads, 0 = CAF's default: one per core, at least 4 (default 0)",
     int_opt(&Config::caf_threads, "caf-threads", 0, 256)},
    {"store-nice",
     "nice value of the store's writer thread, -20..19: the single writer every order waits on "
     "twice, so ahead of the HTTP and actor threads for the CPU (needs CAP_SYS_NICE below 0; "
     "without it the thread keeps the process's; default -10)",
     int_opt(&Config::store_nice, "store-nice", -20, 19)},
    {"sched-batch",
     "run troupe's threads under Linux's SCHED_BATCH policy: a thread woken by another (an HTTP "
     "thread by its answer, a worker by a message) waits for the running one's time slice "
     "instead of preempting it; measured on 2 cores: ~8 % more orders/s at c=64 and ~0.07 ms "
     "less for a lone request (default 1)",
     bool_opt(&Config::sched_batch, "sched-batch"), true},
    {"caf-scheduler",
     "actor scheduler policy: sharing (one queue; idle workers sleep until woken) or stealing "
     "(CAF's default: idle workers poll and nap); on 2 cores sharing keeps the p99 lower "
     "(12-13 ms against 13-57 ms at c=64) for 1-6 % fewer orders/s (default sharing)",
     [](Config& c, const std::string& v) -> domain::Status {
       if (v != "sharing" && v != "stealing")
         return bad("caf-scheduler", "expected sharing or stealing, got '" + v + "'");
       c.caf_scheduler = v;
       return domain::ok_status();
     }},
    {"log-level", "trace, debug, info, warn, error, off (default info)",
     [](Config& c, const std::string& v) -> domain::Status {
       static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
       for (const char* l : levels)
         if (v == l) {
           c.log_level = v;
           return domain::ok_status();
         }
       return bad("log-level", "expected trace, debug, info, warn, error or off");
     }},
  };
  return opts;
}

const Option* find_option(const std::string& name) {
  for (const auto& o : options())
    if (name == o.name) return &o;
  return nullptr;
}

std::string env_name(const std::string& opt) {
  if (opt == "redis") return "TROUPE_REDIS_URL";
  std::string e = "TROUPE_";
  for (char ch : opt) e.push_back(ch == '-' ? '_' : static_cast<char>(std::toupper(ch)));
  return e;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string usage() {
  std::string u =
    "usage: troupe serve [options]\n"
    "       troupe copy-store TARGET [options]\n"
    "       troupe --help\n\n"
    "serve runs the troupe booking server. copy-store copies the store serve\n"
    "would open (--data-dir, or --redis when set) into TARGET, an empty data\n"
    "directory or an empty Redis (redis://host:port[/db], with --redis-prefix,\n"
    "--redis-password and --redis-timeout-ms); troupe must not be serving the\n"
    "source meanwhile. Each option can also be set by the\n"
    "environment variable shown, or by 'name = value' in the --config file.\n"
    "Precedence: flags > environment > config file > defaults.\n\noptions:\n";
  for (const auto& o : options()) {
    std::string flag = std::string("  --") + o.name + (o.flag ? "" : " VALUE");
    if (flag.size() < 30) flag.resize(30, ' ');
    u += flag + " " + o.help + "\n" + std::string(31, ' ') + "[" + env_name(o.name) + "]\n";
  }
  u += "  --help                       this text\n";
  return u;
}

domain::Result<Config> parse_config(const std::vector<std::string>& args, char** envp) {
  Config c;
  std::vector<std::pair<std::string, std::string>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h" || a == "help") {
      c.command = "help";
      return c;
    }
    if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2), value;
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else {
        const Option* o = find_option(name);
        if (o && o->flag && (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0)) {
          value = "1";
        } else {
          if (i + 1 >= args.size()) return bad(name, "missing value");
          value = args[++i];
        }
      }
      if (!find_option(name))
        return make_error(ErrorKind::invalid_input, "unknown option --" + name + " (see --help)");
      flags.emplace_back(name, value);
    } else if (c.command.empty()) {
      if (a != "serve" && a != "copy-store")
        return make_error(ErrorKind::invalid_input, "unknown command '" + a + "' (see --help)");
      c.command = a;
    } else if (c.command == "copy-store" && c.copy_to.empty() && !a.empty()) {
      c.copy_to = a;
    } else {
      return make_error(ErrorKind::invalid_input, "unexpected argument '" + a + "'");
    }
  }
  if (c.command.empty()) c.command = "serve";
  if (c.command == "copy-store" && c.copy_to.empty())
    return make_error(ErrorKind::invalid_input,
                      "copy-store: where to? (troupe copy-store DIR-or-redis://URL [options])");

  std::map<std::string, std::string> env;
  for (char** e = envp; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }

  // The config file's path itself may come from a flag or the environment.
  std::string file;
  if (auto it = env.find("TROUPE_CONFIG"); it != env.end()) file = it->second;
  for (const auto& f : flags)
    if (f.first == "config") file = f.second;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return make_error(ErrorKind::invalid_input, "cannot read config file " + file);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      // '#' starts a comment at the line's start or after white space, so
      // values (a password, a URL) may contain it.
      for (size_t i = 0; i < line.size(); ++i)
        if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
          line.resize(i);
          break;
        }
      line = trim(line);
      if (line.empty()) continue;
      auto eq = line.find('=');
      if (eq == std::string::npos)
        return make_error(ErrorKind::invalid_input,
                          file + ":" + std::to_string(n) + ": expected 'name = value'");
      auto name = trim(line.substr(0, eq));
      auto* o = find_option(name);
      if (!o || name == "config")
        return make_error(ErrorKind::invalid_input,
                          file + ":" + std::to_string(n) + ": unknown option '" + name + "'");
      if (auto st = o->set(c, trim(line.substr(eq + 1))); !st) return st.error();
    }
  }
  for (const auto& o : options()) {
    auto it = env.find(env_name(o.name));
    if (it == env.end()) continue;
    if (auto st = o.set(c, it->second); !st)
      return make_error(ErrorKind::invalid_input, env_name(o.name) + ": " + st.error().detail);
  }
  for (const auto& f : flags)
    if (auto st = find_option(f.first)->set(c, f.second); !st) return st.error();
  c.config_file = file;
  return c;
}

}  // namespace troupe::app
