//! A local server's process, found by the port it listens on (Linux /proc): its peak resident
//! memory and the CPU time it has used, so a scenario can report what a request cost the server
//! apart from how many the machine managed (which swings with everything else running on it).

/// Linux reports CPU time in USER_HZ ticks, 100 a second on every architecture it runs on.
const MICROS_PER_TICK: u64 = 10_000;

pub struct Monitor {
    pid: Option<u32>,
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The process holding the listening socket on `port`.
fn pid_listening_on(port: u16) -> Option<u32> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || fields[3] != "0A" {
                continue;
            }
            let local_port = fields[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                inodes.push(format!("socket:[{}]", fields[9]));
            }
        }
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path())
                && inodes.iter().any(|i| link.as_os_str() == i.as_str())
            {
                return Some(pid);
            }
        }
    }
    None
}

impl Monitor {
    pub fn start(base: &str) -> Monitor {
        let port = reqwest::Url::parse(base)
            .ok()
            .and_then(|u| u.port_or_known_default());
        Monitor {
            pid: port.and_then(pid_listening_on),
        }
    }

    /// The kernel's high-water mark of the server's resident set (KiB), read at the end.
    pub fn finish(self) -> Option<u64> {
        status_kib(self.pid?, "VmHWM:")
    }

    /// User and system CPU time of every thread of the server so far, in microseconds (to the
    /// kernel's 10 ms tick: use it over seconds of load).
    pub fn cpu_micros(&self) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid?)).ok()?;
        // Fields after the command name (which may hold spaces) in parentheses: utime and stime
        // are the 14th and 15th of the line, the 12th and 13th after it.
        let after_name = &stat[stat.rfind(')')? + 1..];
        let mut fields = after_name.split_whitespace().skip(11);
        let user: u64 = fields.next()?.parse().ok()?;
        let system: u64 = fields.next()?.parse().ok()?;
        Some((user + system) * MICROS_PER_TICK)
    }
}
