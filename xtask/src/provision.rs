//! What the test suite and the benchmarks need beyond Cargo, provisioned from the package
//! registries: the Python oracles in a virtual environment under the target directory
//! (pinned in `tests/oracles/requirements.txt`), Debian's Chromium for the
//! dashboard's browser test, Debian's Prometheus for the `/metrics` scrape test,
//! Debian's poppler-utils (`pdftotext`) for the PDF export test, and a
//! PostgreSQL server for the PostgreSQL store's tests
//! (`postgres.rs`). A missing prerequisite is one message up front that says
//! the command that brings it, never a failure deep inside a test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, bail};

use crate::{root, run, target_dir};

/// Where the dashboard test finds the browser (Debian's `chromium` package).
const CHROMIUM: &str = "/usr/bin/chromium";

/// Where the PDF export test finds `pdftotext` (Debian's `poppler-utils` package).
const PDFTOTEXT: &str = "/usr/bin/pdftotext";

/// Where the scrape test finds Prometheus (Debian's `prometheus` package).
const PROMETHEUS: &str = "/usr/bin/prometheus";

/// `cargo xtask test ARGS`: provisions, then runs `cargo test --workspace ARGS` with the
/// oracles' interpreter in `TALLY_TEST_PYTHON` and the PostgreSQL server's URL in
/// `TALLY_TEST_POSTGRES_URL`; a server started here stops when the tests end, pass or
/// fail.
pub fn test(args: &[&str]) -> anyhow::Result<()> {
    let python = oracle_python()?;
    chromium()?;
    prometheus()?;
    pdftotext()?;
    let postgres = crate::postgres::test_server()?;
    println!("== cargo test --workspace {}", args.join(" "));
    run(Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["test", "--workspace"])
        .args(args)
        .env("TALLY_TEST_PYTHON", &python)
        .env(crate::postgres::URL_VARIABLE, &postgres.url))
}

/// The interpreter of the oracles' virtual environment, created or brought up to date
/// with the pinned requirements when they changed.
pub fn oracle_python() -> anyhow::Result<PathBuf> {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    if let Some(python) = PYTHON.get() {
        return Ok(python.clone());
    }
    let python = provision_oracles()?;
    Ok(PYTHON.get_or_init(|| python).clone())
}

fn provision_oracles() -> anyhow::Result<PathBuf> {
    let requirements_path = root().join("tests/oracles/requirements.txt");
    let requirements = std::fs::read_to_string(&requirements_path)
        .with_context(|| format!("reading {}", requirements_path.display()))?;
    let venv = target_dir().join("oracle-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("requirements.installed");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&requirements) {
        println!("== oracles: {} (up to date)", venv.display());
        return Ok(python);
    }
    println!(
        "== oracles: installing tests/oracles/requirements.txt into {}",
        venv.display()
    );
    let system = system_python()?;
    if !python.exists() {
        create_venv(&system, &venv)?;
    }
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements_path)
        .status()
        .with_context(|| format!("starting {}", python.display()))?;
    if !installed.success() {
        bail!(
            "pip could not install tests/oracles/requirements.txt into {} ({installed}); \
             the oracles need PyPI. Its messages are above.",
            venv.display()
        );
    }
    std::fs::write(&stamp, &requirements)?;
    Ok(python)
}

/// `python3` (3.9 or later) from the PATH.
fn system_python() -> anyhow::Result<PathBuf> {
    let version = Command::new("python3")
        .args(["-c", "import sys; print(sys.version_info >= (3, 9))"])
        .output();
    match version {
        Ok(output) if output.status.success() && output.stdout.starts_with(b"True") => {
            Ok(PathBuf::from("python3"))
        }
        Ok(_) => bail!("the oracles need Python 3.9 or later as `python3`; this one is older"),
        Err(_) => bail!(
            "the oracles need Python 3 (`python3` is not on the PATH): on Debian, \
             `apt-get install python3 python3-venv`"
        ),
    }
}

fn create_venv(python: &Path, venv: &Path) -> anyhow::Result<()> {
    let created = Command::new(python)
        .args(["-m", "venv"])
        .arg(venv)
        .status()?;
    if created.success() {
        return Ok(());
    }
    // Debian splits `venv` (and its pip) into python3-venv.
    let _ = std::fs::remove_dir_all(venv);
    if !can_install_debian_packages() {
        bail!(
            "`python3 -m venv` failed: on Debian install the module with \
             `sudo apt-get install python3-venv`, then run this again"
        );
    }
    apt_install("python3-venv")?;
    run(Command::new(python).args(["-m", "venv"]).arg(venv))
}

/// Chromium is there, or installed now from Debian's packages when this runs as root.
fn chromium() -> anyhow::Result<()> {
    if Path::new(CHROMIUM).exists() {
        println!("== chromium: {CHROMIUM}");
        return Ok(());
    }
    if !can_install_debian_packages() {
        bail!(
            "the dashboard's browser test needs {CHROMIUM}: install it with \
             `sudo apt-get install chromium` (Debian), then run this again"
        );
    }
    println!("== chromium: installing Debian's package");
    apt_install("chromium")
}

/// Prometheus is there, or installed now from Debian's packages when this runs as root.
fn prometheus() -> anyhow::Result<()> {
    if Path::new(PROMETHEUS).exists() {
        println!("== prometheus: {PROMETHEUS}");
        return Ok(());
    }
    if !can_install_debian_packages() {
        bail!(
            "the /metrics scrape test needs {PROMETHEUS}: install it with \
             `sudo apt-get install prometheus` (Debian), then run this again"
        );
    }
    println!("== prometheus: installing Debian's package");
    apt_install("prometheus")
}

/// `pdftotext` is there, or installed now from Debian's packages when this runs as root.
fn pdftotext() -> anyhow::Result<()> {
    if Path::new(PDFTOTEXT).exists() {
        println!("== pdftotext: {PDFTOTEXT}");
        return Ok(());
    }
    if !can_install_debian_packages() {
        bail!(
            "the PDF export test needs {PDFTOTEXT}: install it with \
             `sudo apt-get install poppler-utils` (Debian), then run this again"
        );
    }
    println!("== pdftotext: installing Debian's poppler-utils");
    apt_install("poppler-utils")
}

/// Root on a machine with `apt-get`.
pub fn can_install_debian_packages() -> bool {
    running_as_root() && Path::new("/usr/bin/apt-get").exists()
}

/// Whether this process runs as root.
pub fn running_as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
    })
}

pub fn apt_install(package: &str) -> anyhow::Result<()> {
    run(Command::new("apt-get").args(["update", "--quiet", "--quiet"]))?;
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "--yes", "--quiet", "--quiet", package]))
}
