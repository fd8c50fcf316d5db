//! `cargo xtask`: the project's two commands and the PWA build they share.
//!
//! - `cargo xtask run [-- SERVE FLAGS]` installs what is missing, builds the PWA and the server in
//!   release mode, and starts `tramyte serve` on 127.0.0.1:8080 with SQLite under `./data/`.
//! - `cargo xtask test [NEXTEST ARGS]` installs what is missing (Chromium and chromedriver from
//!   Debian's packages included) and runs every test: the wasm component tests in headless
//!   Chromium, then unit, integration and browser end-to-end tests with `cargo nextest`, on
//!   SQLite and on PostgreSQL (a throwaway cluster of its own when none answers, see `postgres`).
//! - `cargo xtask bench [ARGS]` builds the server in release mode and runs the sync load
//!   benchmark against it (`tests/benches/sync_load.rs`), which prints a table of figures.
//! - `cargo xtask fuzz [CASES]` runs the sync fuzz targets longer than CI does, with a fresh
//!   seed: the hub in process (`shared/tests/fuzz_hub.rs`) and the real server
//!   (`tests/integration/fuzz.rs`).
//!
//! Tools are pinned (see the constants below) and installed once; a second run only rebuilds what
//! changed.

use std::collections::hash_map::DefaultHasher;
use std::ffi::OsStr;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod postgres;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The browser and its driver, from Debian's packages.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// cargo-deny, installed from crates.io when missing (`cargo xtask deny`).
const CARGO_DENY_VERSION: &str = "0.20.2";
/// Flags for every crate of the PWA's wasm (target crates only: build scripts and proc macros
/// are built without them). `erase_components` is Leptos's own switch (cargo-leptos's default in
/// debug builds): components and reactive closures in views become type-erased views, compiled
/// once per output type instead of once per closure — 32 KB less brotli wasm
/// (`docs/measurements.md`). The component tests and lints build without it; the browser tests
/// drive this build.
const PWA_RUSTFLAGS: [&str; 2] = ["--cfg", "erase_components"];
/// wasm-split's command line (`wasm-split-cli`), installed from crates.io when missing: it splits
/// the lazily loaded pages off the PWA's wasm (the library cargo-leptos uses for `--split`).
const WASM_SPLIT_VERSION: &str = "0.2.4";

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run [-- FLAGS]   build the PWA and the server (release) and start `tramyte serve`
                   (FLAGS are passed to `tramyte serve`, e.g. `-- --addr 0.0.0.0:8080`)
  test [ARGS]      run every test; ARGS are passed to `cargo nextest run`
  bench [ARGS]     build the server (release) and run the sync load benchmark against it
                   (ARGS are passed to `cargo bench`; knobs: SYNC_BENCH_* variables, see
                   tests/benches/sync_load.rs)
  fuzz [CASES]     run the sync fuzz targets with CASES cases each (default 20000) and a
                   random seed (TRAMYTE_FUZZ_SEED=N replays one)
  deny             check the dependency policy (deny.toml: licences, duplicate versions,
                   sources) with cargo-deny, installed when missing
  pwa              build the PWA into web/dist only";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("", &[][..]),
    };
    let result = Project::locate().and_then(|project| match command {
        "run" => project.run(rest),
        "test" => project.test(rest),
        "bench" => project.bench(rest),
        "fuzz" => project.fuzz(rest),
        "deny" => project.deny(),
        "pwa" => project
            .ensure_build_tools()
            .and_then(|()| project.build_pwa()),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command {command:?}\n{USAGE}").into()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Paths of this checkout and of the tools it uses.
struct Project {
    root: PathBuf,
    target_dir: PathBuf,
    cargo: String,
    cargo_bin: PathBuf,
}

impl Project {
    fn locate() -> Result<Project> {
        // `cargo run` sets CARGO_MANIFEST_DIR for the run too: prefer it to the path compiled in,
        // so a binary reused from a build cache shared by clones at other paths (CI) works on
        // the checkout it was started from.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .ok_or("xtask is not inside the workspace")?
            .to_path_buf();
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    root.join(dir)
                }
            }
            None => root.join("target"),
        };
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
            .ok_or("neither CARGO_HOME nor HOME is set")?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        Ok(Project {
            root,
            target_dir,
            cargo,
            cargo_bin: cargo_home.join("bin"),
        })
    }

    /// `cargo xtask run`.
    fn run(&self, serve_args: &[String]) -> Result {
        self.ensure_build_tools()?;
        self.build_pwa()?;
        stage("build the server (release)", || {
            self.cargo([
                "build",
                "--release",
                "-p",
                "tramyte-server",
                "--bin",
                "tramyte",
            ])
        })?;
        let binary = self.target_dir.join("release/tramyte");
        let serve_args: Vec<&String> = serve_args.iter().filter(|arg| *arg != "--").collect();
        eprintln!(
            "xtask: starting {} serve {}",
            binary.display(),
            join(&serve_args)
        );
        let mut command = Command::new(&binary);
        command
            .arg("serve")
            .args(serve_args)
            .current_dir(&self.root);
        exec(command)
    }

    /// `cargo xtask test`.
    fn test(&self, nextest_args: &[String]) -> Result {
        self.ensure_build_tools()?;
        self.ensure_browser()?;
        self.ensure_nextest()?;
        self.ensure_npm_packages(&self.root.join("tests/e2e"))?;
        self.build_pwa()?;
        stage("wasm component tests in headless Chromium", || {
            let mut command =
                self.cargo_command(["test", "-p", "tramyte-web", "--target", WASM_TARGET]);
            command
                .env("CHROMEDRIVER", CHROMEDRIVER)
                .current_dir(self.root.join("web"));
            check(&mut command)
        })?;
        // Stopped (when it is our own) as this function returns, whatever the tests did.
        let postgres = postgres::TestPostgres::provide()?;
        eprintln!("xtask: unit, integration and browser tests (cargo nextest)");
        let mut command =
            self.cargo_command(["nextest", "run", "--workspace", "--exclude", "tramyte-web"]);
        command
            .args(nextest_args)
            .env("TRAMYTE_CHROMIUM", CHROMIUM)
            .env("TRAMYTE_TEST_POSTGRES", postgres.url());
        check(&mut command)
    }

    /// `cargo xtask bench`: the sync load benchmark against the release server binary.
    fn bench(&self, bench_args: &[String]) -> Result {
        stage("build the server (release)", || {
            self.cargo([
                "build",
                "--release",
                "-p",
                "tramyte-server",
                "--bin",
                "tramyte",
            ])
        })?;
        let binary = self.target_dir.join("release/tramyte");
        stage("sync load benchmark", || {
            let mut command =
                self.cargo_command(["bench", "-p", "tramyte-tests", "--bench", "sync_load"]);
            command.args(bench_args).env("TRAMYTE_BIN", &binary);
            check(&mut command)
        })
    }

    /// `cargo xtask fuzz`: the sync fuzz targets with many cases and a fresh seed each run.
    fn fuzz(&self, args: &[String]) -> Result {
        let cases = match args.first() {
            Some(cases) => cases
                .parse::<u32>()
                .map_err(|_| format!("CASES must be a number, not {cases:?}"))?,
            None => 20_000,
        };
        let seed = std::env::var("TRAMYTE_FUZZ_SEED").unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs().to_string())
                .unwrap_or_else(|_| "1".to_owned())
        });
        eprintln!(
            "xtask: fuzzing with {cases} cases, seed {seed} (TRAMYTE_FUZZ_SEED={seed} replays it)"
        );
        stage("fuzz the hub in process", || {
            let mut command = self.cargo_command([
                "test",
                "-p",
                "tramyte-shared",
                "--test",
                "fuzz_hub",
                "--",
                "fuzz_",
            ]);
            command
                .env("TRAMYTE_FUZZ_CASES", cases.to_string())
                .env("TRAMYTE_FUZZ_SEED", &seed);
            check(&mut command)
        })?;
        stage("fuzz the real server", || {
            let mut command = self.cargo_command([
                "test",
                "-p",
                "tramyte-tests",
                "--test",
                "integration",
                "--",
                "fuzz::",
                "--nocapture",
            ]);
            // Each server case opens a connection: a tenth as many keeps the run near the hub's.
            command
                .env("TRAMYTE_FUZZ_CASES", (cases / 10).max(1).to_string())
                .env("TRAMYTE_FUZZ_SEED", &seed);
            check(&mut command)
        })
    }

    /// The wasm target, `wasm-bindgen` at the version in Cargo.lock, `wasm-split-cli`, and a
    /// working `wasm-opt`.
    fn ensure_build_tools(&self) -> Result {
        stage("check build tools", || {
            let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
            if !installed.lines().any(|line| line.trim() == WASM_TARGET) {
                check(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
            }
            let version = self.locked_version("wasm-bindgen")?;
            let bindgen = self.cargo_bin.join("wasm-bindgen");
            let current = output(Command::new(&bindgen).arg("--version")).unwrap_or_default();
            let runner = self.cargo_bin.join("wasm-bindgen-test-runner");
            if current.split_whitespace().nth(1) != Some(version.as_str()) || !runner.exists() {
                eprintln!("xtask: installing wasm-bindgen-cli {version} (about 2 minutes, once)");
                // Not --locked: a dependency pinned in its lock file is missing from the registry.
                check(&mut self.cargo_command([
                    "install",
                    "wasm-bindgen-cli",
                    "--version",
                    &version,
                ]))?;
            }
            let installed = output(&mut self.cargo_command(["install", "--list"]))?;
            let wanted = format!("wasm_split_cli_support v{WASM_SPLIT_VERSION}:");
            if !installed.lines().any(|line| line == wanted) {
                eprintln!(
                    "xtask: installing wasm-split-cli {WASM_SPLIT_VERSION} (a few minutes, once)"
                );
                check(&mut self.cargo_command([
                    "install",
                    "wasm_split_cli_support",
                    "--version",
                    WASM_SPLIT_VERSION,
                    "--locked",
                    "--features",
                    "build-binary",
                ]))?;
            }
            self.ensure_npm_packages(&self.root.join("web"))
        })
    }

    /// Chromium and chromedriver from Debian's packages.
    fn ensure_browser(&self) -> Result {
        if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
            return Ok(());
        }
        stage(
            "install chromium and chromium-driver (Debian packages)",
            || apt_install(&["chromium", "chromium-driver"]),
        )
    }

    /// `cargo xtask deny`: licences, duplicate versions and sources against `deny.toml`. The
    /// advisory database cannot be fetched here, so advisories are not checked.
    fn deny(&self) -> Result {
        let installed = output(&mut self.cargo_command(["deny", "--version"])).unwrap_or_default();
        if installed.split_whitespace().nth(1) != Some(CARGO_DENY_VERSION) {
            stage("install cargo-deny", || {
                check(&mut self.cargo_command([
                    "install",
                    "cargo-deny",
                    "--version",
                    CARGO_DENY_VERSION,
                    "--locked",
                ]))
            })?;
        }
        // cargo deny reads the metadata of every target's packages (Windows ones too), which a
        // fresh machine has not downloaded for its own builds: fetch them first (from the
        // registry, at the lock file's versions), then check without touching the network.
        stage("fetch every locked package", || {
            self.cargo(["fetch", "--locked"])
        })?;
        stage("dependency policy (cargo deny)", || {
            self.cargo(["deny", "--frozen", "check", "licenses", "bans", "sources"])
        })
    }

    fn ensure_nextest(&self) -> Result {
        if output(&mut self.cargo_command(["nextest", "--version"])).is_ok() {
            return Ok(());
        }
        stage("install cargo-nextest", || {
            check(&mut self.cargo_command(["install", "cargo-nextest", "--locked"]))
        })
    }

    /// `npm ci` in `dir` when its `node_modules` is missing or older than its lock file.
    fn ensure_npm_packages(&self, dir: &Path) -> Result {
        let lock = dir.join("package-lock.json");
        let installed = dir.join("node_modules/.package-lock.json");
        let fresh = match (modified(&lock), modified(&installed)) {
            (Some(lock), Some(installed)) => installed >= lock,
            _ => false,
        };
        if fresh {
            return Ok(());
        }
        let name = dir
            .strip_prefix(&self.root)
            .unwrap_or(dir)
            .display()
            .to_string();
        stage(&format!("npm ci in {name}"), || {
            let mut command = Command::new("npm");
            command
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(dir);
            check(&mut command)
        })
    }

    /// Builds the wasm app (size-tuned), splits the reviewer's pages off into wasm files of their
    /// own (`web/src/split.rs`), runs wasm-bindgen and wasm-opt, and assembles `web/dist` with a
    /// service worker stamped with the version of this build.
    fn build_pwa(&self) -> Result {
        stage("build the PWA (wasm, release)", || {
            // `cargo rustc` gives the flag to the final link only: wasm-split reads the linker's
            // relocations, and the dependencies' cached builds stay valid.
            let mut command = self.cargo_command([
                "rustc",
                "-p",
                "tramyte-web",
                "--bin",
                "tramyte-web",
                "--profile",
                "pwa",
                "--target",
                WASM_TARGET,
                "--features",
                "split",
                "--",
                "-Clink-args=--emit-relocs",
            ]);
            command.env("CARGO_ENCODED_RUSTFLAGS", PWA_RUSTFLAGS.join("\x1f"));
            check(&mut command)
        })?;
        let staging = self.target_dir.join("pwa");
        let split = staging.join("split");
        let pkg = staging.join("pkg");
        stage("wasm-split, wasm-bindgen and wasm-opt", || {
            let wasm = self
                .target_dir
                .join(WASM_TARGET)
                .join("pwa/tramyte-web.wasm");
            recreate_dir(&split)?;
            recreate_dir(&pkg)?;
            // The main module (`tramyte_web.wasm`, for wasm-bindgen), one wasm file per lazy
            // page or code the pages share, and `__wasm_split.js` that loads them, importing
            // `initSync` from wasm-bindgen's `./tramyte_web.js`.
            let mut splitter = Command::new(self.cargo_bin.join("wasm-split-cli"));
            splitter
                .arg(&wasm)
                .arg(&split)
                .args(["--target", "web", "--out-name", "tramyte_web"]);
            check(&mut splitter)?;
            let mut bindgen = Command::new(self.cargo_bin.join("wasm-bindgen"));
            bindgen
                .args([
                    "--target",
                    "web",
                    "--no-typescript",
                    // The split files import the main module's functions by these names.
                    "--keep-lld-exports",
                    "--no-demangle",
                    "--out-name",
                    "tramyte_web",
                    "--out-dir",
                ])
                .arg(&pkg)
                .arg(split.join("tramyte_web.wasm"));
            check(&mut bindgen)?;
            let mut wasm_files = vec![pkg.join("tramyte_web_bg.wasm")];
            for entry in std::fs::read_dir(&split)? {
                let path = entry?.path();
                let name = path.file_name().and_then(OsStr::to_str).unwrap_or_default();
                if name == "tramyte_web.wasm" {
                    continue;
                }
                std::fs::copy(&path, pkg.join(name))?;
                if name.ends_with(".wasm") {
                    wasm_files.push(pkg.join(name));
                }
            }
            let cache = staging.join("opt-cache");
            let mut used = Vec::new();
            for file in &wasm_files {
                used.push(self.optimise_wasm(file, &cache)?);
            }
            // Keep only this build's outputs.
            for entry in std::fs::read_dir(&cache)? {
                let path = entry?.path();
                if !used.contains(&path) {
                    std::fs::remove_file(path)?;
                }
            }
            Ok(())
        })?;
        stage("assemble web/dist", || self.assemble_dist(&pkg))
    }

    /// Runs `wasm-opt -Oz`, reusing the previous output when the input has not changed; answers
    /// the cached output's path.
    fn optimise_wasm(&self, wasm: &Path, cache_dir: &Path) -> Result<PathBuf> {
        let input = std::fs::read(wasm)?;
        let cached = cache_dir.join(format!("{:016x}.wasm", hash(&input)));
        if !cached.exists() {
            std::fs::create_dir_all(cache_dir)?;
            let partial = cache_dir.join("partial.wasm");
            let mut command = Command::new(self.root.join("web/node_modules/.bin/wasm-opt"));
            command
                .args(["-Oz", "--strip-debug", "--strip-producers"])
                .args([
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-sign-ext",
                    "--enable-mutable-globals",
                    "--enable-reference-types",
                    "--enable-multivalue",
                ])
                .arg(wasm)
                .arg("-o")
                .arg(&partial);
            check(&mut command)?;
            std::fs::rename(&partial, &cached)?;
        }
        std::fs::copy(&cached, wasm)?;
        Ok(cached)
    }

    fn assemble_dist(&self, pkg: &Path) -> Result {
        let web = self.root.join("web");
        let next = web.join("dist.next");
        recreate_dir(&next)?;
        std::fs::copy(web.join("index.html"), next.join("index.html"))?;
        copy_tree(&web.join("static"), &next)?;
        copy_tree(pkg, &next.join("pkg"))?;
        fingerprint(&next)?;

        let mut files = Vec::new();
        list_files(&next, &next, &mut files)?;
        files.retain(|path| path != "sw.js");
        files.sort();
        let mut hasher = DefaultHasher::new();
        for path in &files {
            hasher.write(path.as_bytes());
            hasher.write(&std::fs::read(next.join(path))?);
        }
        let version = format!("{:016x}", hasher.finish());
        let shell: Vec<String> = files.iter().map(|path| format!("/{path}")).collect();
        let sw_path = next.join("sw.js");
        let sw = std::fs::read_to_string(&sw_path)?
            .replace("__TRAMYTE_VERSION__", &version)
            .replace("__TRAMYTE_SHELL__", &serde_json::to_string(&shell)?);
        std::fs::write(&sw_path, sw)?;
        let mut all = files.clone();
        all.push("sw.js".to_owned());
        compress(&next, &all)?;

        let dist = web.join("dist");
        if dist.exists() {
            std::fs::remove_dir_all(&dist)?;
        }
        std::fs::rename(&next, &dist)?;
        let brotli_size = |path: &str| -> Result<u64> {
            Ok(std::fs::metadata(compressed_path(&dist.join(path), "br"))?.len())
        };
        let (main_stem, _) = MAIN_WASM.rsplit_once('.').unwrap_or((MAIN_WASM, ""));
        let (mut main, mut lazy) = (None, Vec::new());
        for path in files.iter().filter(|path| path.ends_with(".wasm")) {
            if path.starts_with(&format!("{main_stem}.")) {
                main = Some(path);
            } else {
                lazy.push(path);
            }
        }
        let main = main.ok_or("web/dist has no main wasm")?;
        let main_size = std::fs::metadata(dist.join(main))?.len();
        let mut lazy_brotli = 0;
        for path in &lazy {
            lazy_brotli += brotli_size(path)?;
        }
        eprintln!(
            "xtask: web/dist version {version}, {} files, wasm {} KB raw, {} KB brotli loaded \
             first (target ≤ 600 KB); {} more wasm files, {} KB brotli, load the reviewer's pages \
             on demand",
            files.len() + 1,
            main_size / 1024,
            brotli_size(main)? / 1024,
            lazy.len(),
            lazy_brotli / 1024,
        );
        Ok(())
    }

    /// The version of `package` recorded in Cargo.lock.
    fn locked_version(&self, package: &str) -> Result<String> {
        let lock = std::fs::read_to_string(self.root.join("Cargo.lock"))?;
        let wanted = format!("name = \"{package}\"");
        let mut lines = lock.lines();
        while let Some(line) = lines.next() {
            if line.trim() == wanted
                && let Some(version) = lines
                    .next()
                    .and_then(|l| l.trim().strip_prefix("version = "))
            {
                return Ok(version.trim_matches('"').to_owned());
            }
        }
        Err(format!("{package} is not in Cargo.lock").into())
    }

    fn cargo_command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(&self.cargo);
        command
            .args(args)
            .current_dir(&self.root)
            .env("PATH", self.path_with_cargo_bin());
        command
    }

    fn cargo<I, S>(&self, args: I) -> Result
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        check(&mut self.cargo_command(args))
    }

    /// `PATH` with cargo's bin directory first, so `wasm-bindgen-test-runner` is found.
    fn path_with_cargo_bin(&self) -> std::ffi::OsString {
        let mut paths = vec![self.cargo_bin.clone()];
        if let Some(path) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(paths).unwrap_or_default()
    }
}

/// Installs Debian packages (through sudo when not root).
fn apt_install(packages: &[&str]) -> Result {
    let sudo = !is_root() && which("sudo");
    let apt = |args: &[&str]| {
        let mut command = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            command.arg("apt-get");
        }
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        check(&mut command)
    };
    apt(&["update", "-q"])?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend_from_slice(packages);
    apt(&install)
}

/// Runs `work` and prints how long it took.
fn stage(name: &str, work: impl FnOnce() -> Result) -> Result {
    let start = Instant::now();
    eprintln!("xtask: {name} …");
    let result = work();
    let seconds = start.elapsed().as_secs_f64();
    match &result {
        Ok(()) => eprintln!("xtask: {name}: done in {seconds:.1} s"),
        Err(_) => eprintln!("xtask: {name}: FAILED after {seconds:.1} s"),
    }
    result
}

fn check(command: &mut Command) -> Result {
    let status = command
        .status()
        .map_err(|err| format!("cannot run {command:?}: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(command)).into())
    }
}

fn output(command: &mut Command) -> Result<String> {
    let out = command.output()?;
    if !out.status.success() {
        return Err(format!("{} failed", describe(command)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(command: &Command) -> String {
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!(
        "`{} {}`",
        command.get_program().to_string_lossy(),
        args.join(" ")
    )
}

#[cfg(unix)]
fn exec(mut command: Command) -> Result {
    use std::os::unix::process::CommandExt;
    Err(format!("cannot start {}: {}", describe(&command), command.exec()).into())
}

#[cfg(not(unix))]
fn exec(mut command: Command) -> Result {
    check(&mut command)
}

fn join(args: &[&String]) -> String {
    args.iter()
        .map(|arg| arg.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(bytes);
    hasher.finish()
}

fn recreate_dir(dir: &Path) -> Result {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// Files whose names carry a hash of their content, leaves first: a file is renamed only after
/// every file it refers to, so its own hash covers the new names. The server lets browsers keep
/// these for a year (`immutable`) and the service worker copies them from the previous version's
/// cache, so a new version downloads only the files that changed. The wasm files split off for
/// lazy loading come before them (see [`fingerprint`]).
const FINGERPRINTED: [&str; 5] = [
    "pkg/tramyte_web_bg.wasm",
    "pkg/tramyte_web.js",
    "pwa.js",
    "app.css",
    "boot.js",
];

/// The main wasm module, the one a phone loads first.
const MAIN_WASM: &str = "pkg/tramyte_web_bg.wasm";

/// Files that refer to renamed files but keep their own names: the page, and wasm-split's loader
/// of the lazily loaded wasm files, which the glue imports as `./__wasm_split.js` and the main
/// wasm names as its import module (and which imports the glue in turn).
const REFERRERS: [&str; 2] = ["pkg/__wasm_split.js", "index.html"];

/// Renames the wasm-bindgen snippets, the lazily loaded wasm files and [`FINGERPRINTED`] to
/// `name.<hash>.ext` (16 hex digits) and rewrites the references to them in the files that are
/// not renamed yet and in [`REFERRERS`].
fn fingerprint(dist: &Path) -> Result {
    let mut order = Vec::new();
    let snippets = dist.join("pkg/snippets");
    if snippets.exists() {
        let mut found = Vec::new();
        list_files(dist, &snippets, &mut found)?;
        order = import_order(dist, found)?;
    }
    let mut split = Vec::new();
    for entry in std::fs::read_dir(dist.join("pkg"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let path = format!("pkg/{name}");
        if name.ends_with(".wasm") && path != MAIN_WASM {
            split.push(path);
        }
    }
    split.sort();
    order.extend(split);
    order.extend(FINGERPRINTED.iter().map(|path| (*path).to_owned()));
    let mut pending: Vec<String> = order.clone();
    pending.extend(
        REFERRERS
            .iter()
            .filter(|path| dist.join(path).exists())
            .map(|path| (*path).to_owned()),
    );
    for path in &order {
        let bytes = std::fs::read(dist.join(path))?;
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let (stem, ext) = name
            .rsplit_once('.')
            .ok_or_else(|| format!("{path} has no extension"))?;
        let hashed = format!("{stem}.{:016x}.{ext}", hash(&bytes));
        let target = if dir.is_empty() {
            hashed.clone()
        } else {
            format!("{dir}/{hashed}")
        };
        std::fs::rename(dist.join(path), dist.join(&target))?;
        pending.retain(|p| p != path);
        let texts = pending
            .iter()
            .filter(|p| [".js", ".css", ".html"].iter().any(|ext| p.ends_with(ext)));
        for referrer in texts {
            let file = dist.join(referrer);
            let text = std::fs::read_to_string(&file)?;
            if text.contains(name) {
                let rewritten = if name.ends_with(".js") && referrer.ends_with(".js") {
                    rewrite_imports(&text, name, &hashed)
                } else {
                    text.replace(name, &hashed)
                };
                std::fs::write(&file, rewritten)?;
            }
        }
    }
    Ok(())
}

/// The order in which to rename `paths` (the snippets): a JavaScript module after every module
/// it imports, so that each is hashed once the names it imports are final (alphabetical where
/// nothing depends).
fn import_order(dist: &Path, mut paths: Vec<String>) -> Result<Vec<String>> {
    paths.sort();
    let mut ordered: Vec<String> = Vec::with_capacity(paths.len());
    while !paths.is_empty() {
        let texts: Vec<String> = paths
            .iter()
            .map(|path| {
                if path.ends_with(".js") {
                    std::fs::read_to_string(dist.join(path))
                } else {
                    Ok(String::new())
                }
            })
            .collect::<std::io::Result<_>>()?;
        let ready = paths.iter().zip(&texts).position(|(path, text)| {
            paths.iter().all(|other| {
                let other_name = other.rsplit('/').next().unwrap_or(other);
                other == path || !imports(text, other_name)
            })
        });
        // A circle of imports: take the first; its reference is rewritten, its hash older.
        let index = ready.unwrap_or(0);
        ordered.push(paths.remove(index));
    }
    Ok(ordered)
}

/// Whether JavaScript `text` imports a module whose path ends in `/name` or is `name`.
fn imports(text: &str, name: &str) -> bool {
    rewrite_imports(text, name, "\u{0}") != text
}

/// Rewrites `name` as `hashed` in `text` only inside import specifiers (`import … from "…"`,
/// `import "…"`, `import("…")`). wasm-bindgen's glue also names a snippet by its path as the
/// key of the imports object the wasm reads, and the wasm's own import names are not rewritten,
/// so those keys must keep the old name.
fn rewrite_imports(text: &str, name: &str, hashed: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(name) {
        let (before, after) = rest.split_at(at);
        let quote_at = before.rfind(['"', '\'', '`']);
        let is_import = quote_at.is_some_and(|q| {
            let literal = &before[q + 1..];
            let ends_string = after[name.len()..].starts_with(&before[q..q + 1]);
            let lead = before[..q].trim_end();
            !literal.contains(char::is_whitespace)
                && (literal.is_empty() || literal.ends_with('/'))
                && ends_string
                && (lead.ends_with("from") || lead.ends_with("import") || lead.ends_with("import("))
        });
        out.push_str(before);
        out.push_str(if is_import { hashed } else { name });
        rest = &after[name.len()..];
    }
    out.push_str(rest);
    out
}

/// Writes `FILE.br` (brotli, quality 11) and `FILE.gz` (gzip, level 9) beside each file that
/// compresses, with Node's built-in zlib (Node is already needed for wasm-opt).
fn compress(dist: &Path, files: &[String]) -> Result {
    const ALREADY_COMPRESSED: [&str; 5] = [".png", ".jpg", ".webp", ".woff2", ".ico"];
    let script = "const z=require('zlib');const fs=require('fs');\
        for(const f of process.argv.slice(1)){const d=fs.readFileSync(f);\
        const br=z.brotliCompressSync(d,{params:{[z.constants.BROTLI_PARAM_QUALITY]:11,\
        [z.constants.BROTLI_PARAM_SIZE_HINT]:d.length}});\
        if(br.length<d.length)fs.writeFileSync(f+'.br',br);\
        const gz=z.gzipSync(d,{level:9});if(gz.length<d.length)fs.writeFileSync(f+'.gz',gz);}";
    let mut command = Command::new("node");
    command.args(["-e", script]);
    for file in files {
        if !ALREADY_COMPRESSED.iter().any(|ext| file.ends_with(ext)) {
            command.arg(dist.join(file));
        }
    }
    check(&mut command)
}

/// `FILE.br` or `FILE.gz`.
fn compressed_path(file: &Path, encoding: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(encoding);
    PathBuf::from(name)
}

fn copy_tree(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Every file under `dir`, as a `/`-separated path relative to `base`.
fn list_files(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            list_files(base, &entry.path(), out)?;
        } else {
            let relative = entry.path().strip_prefix(base)?.to_path_buf();
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rewrite_imports;

    #[test]
    fn only_import_specifiers_are_rewritten() {
        let glue = "import { a } from './snippets/w-1/js/media.js';\n\
            import * as import1 from \"./snippets/w-1/js/media.js\";\n\
            import '/media.js';\nconst m = import(\"./media.js\");\n\
            imports[\"./snippets/w-1/js/media.js\"] = import1;\n\
            const other = './snippets/w-1/js/multimedia.js';";
        let out = rewrite_imports(glue, "media.js", "media.0123456789abcdef.js");
        assert_eq!(
            out,
            "import { a } from './snippets/w-1/js/media.0123456789abcdef.js';\n\
            import * as import1 from \"./snippets/w-1/js/media.0123456789abcdef.js\";\n\
            import '/media.0123456789abcdef.js';\nconst m = import(\"./media.0123456789abcdef.js\");\n\
            imports[\"./snippets/w-1/js/media.js\"] = import1;\n\
            const other = './snippets/w-1/js/multimedia.js';"
        );
    }
}
