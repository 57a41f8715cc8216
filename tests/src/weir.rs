//! Running the real `weir` binary on a configuration, for end-to-end tests.

use crate::net::wait_until;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `weir` binary: `$WEIR_BIN`, or the one built next to the test executable.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("WEIR_BIN") {
        return PathBuf::from(path);
    }
    // Test executables live in target/<profile>/deps/.
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("weir");
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build -p weir`) or set WEIR_BIN",
        path.display()
    );
    path
}

pub struct Weir {
    child: Child,
    pub dir: tempfile::TempDir,
    /// Port of the admin API (127.0.0.1).
    pub admin_port: u16,
    stderr: Arc<Mutex<String>>,
    /// The thread copying stderr; it ends at EOF, once the process has exited.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Weir {
    /// Writes `config` to a fresh directory, starts `weir run` on it, and waits until
    /// every port in `ports` accepts connections.
    pub fn start(config: &str, ports: &[u16]) -> Weir {
        Weir::start_with_files(config, &[], ports)
    }

    /// Like [`Weir::start`], with extra files written beside the config.
    pub fn start_with_files(config: &str, files: &[(&str, &[u8])], ports: &[u16]) -> Weir {
        Weir::start_in_new_dir(config, files, &[], ports)
    }

    /// Like [`Weir::start`], with extra environment variables for the weir process.
    pub fn start_with_env(config: &str, env: &[(&str, &str)], ports: &[u16]) -> Weir {
        Weir::start_in_new_dir(config, &[], env, ports)
    }

    /// Like [`Weir::start`], with the process's address space limited to `bytes` (as
    /// by `ulimit -v`), through util-linux's `prlimit`.
    pub fn start_with_address_space_limit(config: &str, bytes: u64, ports: &[u16]) -> Weir {
        let (dir, config_path) = Weir::new_dir(config, &[]);
        Weir::spawn_with(dir, &config_path, &[], &[], Some(bytes)).wait_for(ports)
    }

    fn start_in_new_dir(config: &str, files: &[(&str, &[u8])], env: &[(&str, &str)], ports: &[u16]) -> Weir {
        let (dir, config_path) = Weir::new_dir(config, files);
        Weir::spawn(dir, &config_path, &[], env).wait_for(ports)
    }

    fn new_dir(config: &str, files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        let config_path = dir.path().join("weir.yaml");
        std::fs::write(&config_path, config).unwrap();
        (dir, config_path)
    }

    /// Stops this weir and starts a new one on the same directory and configuration file.
    pub fn restart(mut self, ports: &[u16]) -> Weir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let config_path = dir.path().join("weir.yaml");
        Weir::spawn(dir, &config_path, &[], &[]).wait_for(ports)
    }

    fn wait_for(mut self, ports: &[u16]) -> Weir {
        let weir = &mut self;
        let admin = weir.admin_port;
        let up = wait_until(Duration::from_secs(20), || {
            if let Ok(Some(status)) = weir.child.try_wait() {
                panic!("weir exited early ({status}):\n{}", weir.stderr());
            }
            ports
                .iter()
                .chain([&admin])
                .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok())
        });
        assert!(up, "weir did not open ports {ports:?} in time:\n{}", weir.stderr());
        self
    }

    fn spawn(dir: tempfile::TempDir, config_path: &Path, extra_args: &[&str], env: &[(&str, &str)]) -> Weir {
        Weir::spawn_with(dir, config_path, extra_args, env, None)
    }

    fn spawn_with(
        dir: tempfile::TempDir,
        config_path: &Path,
        extra_args: &[&str],
        env: &[(&str, &str)],
        address_space: Option<u64>,
    ) -> Weir {
        let admin_port = crate::net::free_port();
        let admin = format!("127.0.0.1:{admin_port}");
        // A test that chooses its own admin address passes --admin itself.
        let default_admin: &[&str] = if extra_args.contains(&"--admin") {
            &[]
        } else {
            &["--admin", &admin]
        };
        let mut command = match address_space {
            Some(bytes) => {
                let mut prlimit = Command::new("prlimit");
                prlimit.arg(format!("--as={bytes}")).arg("--").arg(binary());
                prlimit
            }
            None => Command::new(binary()),
        };
        let mut child = command
            .args(["run", "--config"])
            .arg(config_path)
            .args(default_admin)
            .args(["--drain-timeout", "10s"])
            .args(extra_args)
            .env("WEIR_LOG", std::env::var("WEIR_LOG").unwrap_or_else(|_| "info".into()))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start weir");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Weir {
            child,
            dir,
            admin_port,
            stderr,
            reader: Some(reader),
        }
    }

    /// The configuration file weir runs (and watches).
    pub fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("weir.yaml")
    }

    /// `http://127.0.0.1:ADMIN` followed by `path`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.admin_port)
    }

    /// Runs a `weir` CLI command against this instance's admin API.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        use std::io::Write;
        let mut child = Command::new(binary())
            .args(args)
            .args(["--server", &format!("127.0.0.1:{}", self.admin_port)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the weir CLI");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// Everything weir has logged so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until weir has logged `needle`: lines reach the test through a reader
    /// thread, a moment after the request that caused them has been answered.
    pub fn logged(&self, needle: &str) -> bool {
        wait_until(Duration::from_secs(10), || self.stderr().contains(needle))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (e.g. `"TERM"`) to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; everything it logged is in [`Weir::stderr`] then.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Weir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `weir run` on a configuration expected to be refused; returns the exit status
/// and what it printed. Panics if weir keeps running.
pub fn run_expecting_failure(config: &str) -> (ExitStatus, String) {
    run_expecting_failure_with(config, &[])
}

/// Like [`run_expecting_failure`], with extra `weir run` arguments.
pub fn run_expecting_failure_with(config: &str, extra_args: &[&str]) -> (ExitStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("weir.yaml");
    std::fs::write(&config_path, config).unwrap();
    let mut weir = Weir::spawn(dir, &config_path, extra_args, &[]);
    let status = weir
        .wait_exit(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("weir kept running:\n{}", weir.stderr()));
    (status, weir.stderr())
}
