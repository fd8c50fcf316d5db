//! The `tramyte` binary's command line: help, bad flags and an unreachable database.
#![allow(clippy::unwrap_used)] // tests unwrap what they just built

use std::process::Command;

fn tramyte(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tramyte"))
        .args(args)
        .env_remove("TRAMYTE_DATABASE_URL")
        .env_remove("TRAMYTE_ADDR")
        .output()
        .expect("run tramyte")
}

#[test]
fn help_explains_the_serve_subcommand_and_its_environment_variables() {
    let out = tramyte(&["--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("serve"));
    let out = tramyte(&["serve", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--addr",
        "TRAMYTE_ADDR",
        "--database-url",
        "TRAMYTE_DATABASE_URL",
        "--data-dir",
        "--open",
    ] {
        assert!(text.contains(needle), "serve --help mentions {needle}");
    }
}

#[test]
fn a_bad_flag_gives_one_line_and_exit_code_2() {
    let out = tramyte(&["serve", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("--no-such-flag"));
}

#[test]
fn an_unreachable_database_gives_one_clear_line_and_a_failure_exit() {
    // Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    let out = tramyte(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        "postgres://tramyte:secret@127.0.0.1:9/none",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "tramyte: cannot reach the database at postgres://tramyte:***@127.0.0.1:9/none"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "the password is never printed");
}

#[test]
fn an_environment_variable_sets_a_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_tramyte"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("TRAMYTE_DATABASE_URL", "mysql://nowhere")
        .output()
        .expect("run tramyte");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unsupported database URL mysql://nowhere")
    );
}

fn temp_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tramyte-cli-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const TEST_CATALOG: &str = r#"{
  "format": 1, "code": "TEST-CLI", "revision": 1,
  "title_vi": "TEST: bộ tiêu chí thử", "title_en": "TEST catalog",
  "pass_rule": { "total_min_percent": 80, "criterion_min_percent": 50 },
  "criteria": [
    { "id": "C1", "name_vi": "TEST một", "max_points": 6,
      "indicators": [
        { "id": "1.1", "name_vi": "TEST a", "max_points": 4, "scoring": { "kind": "points" } },
        { "id": "1.2", "name_vi": "TEST b", "max_points": 2, "scoring": { "kind": "yes_no" } } ] },
    { "id": "C2", "name_vi": "TEST hai", "max_points": 4 } ]
}"#;

#[test]
fn catalog_check_lists_every_problem_with_its_line_and_import_writes_nothing() {
    let dir = temp_dir("check");
    let file = dir.join("broken.json");
    let broken = TEST_CATALOG
        .replace(
            r#""max_points": 4, "scoring""#,
            r#""max_points": 3, "scoring""#,
        )
        .replace(r#""kind": "yes_no""#, r#""kind": "maybe""#);
    std::fs::write(&file, broken).unwrap();
    let out = tramyte(&["catalog", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 problems in the catalog"), "{stderr}");
    assert!(
        stderr.contains(
            "line 9: criteria[0].indicators[1].scoring.kind: unknown scoring kind `maybe`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("criteria[0].max_points: indicator points add up to 5, but the criterion's max_points is 6"), "{stderr}");

    let data = dir.join("data");
    let out = tramyte(&[
        "catalog",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !data.join("tramyte.db").exists(),
        "an invalid file never opens the database"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_imported_catalog_is_listed_and_shown() {
    let dir = temp_dir("import");
    let file = dir.join("test.json");
    std::fs::write(&file, TEST_CATALOG).unwrap();
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let out = tramyte(&["catalog", "check", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tramyte(&[
        "catalog",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("imported: TEST-CLI revision 1: 2 criteria, 2 indicators, 10 points")
    );
    let out = tramyte(&[
        "catalog",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("already imported, nothing changed"));

    let out = tramyte(&["catalog", "list", "--data-dir", data]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("QD1300-2023") && listing.contains("shipped"),
        "{listing}"
    );
    assert!(
        listing.contains("TEST-CLI") && listing.contains("imported"),
        "{listing}"
    );

    let out = tramyte(&["catalog", "show", "TEST-CLI", "--data-dir", data]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("1.2        2  TEST b [yes/no]"), "{shown}");
    let out = tramyte(&[
        "catalog",
        "show",
        "QD1300-2023",
        "--json",
        "--data-dir",
        data,
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["criteria"][4]["max_points"], 19);

    let out = tramyte(&["catalog", "show", "NOPE", "--data-dir", data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no catalog NOPE"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn units_import_lists_every_problem_then_users_are_added_listed_and_disabled() {
    let dir = temp_dir("people");
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let broken = dir.join("broken.csv");
    std::fs::write(&broken, "code,kind,name,parent\n38,province,Thanh Hóa,\n123,commune,Xã lạ,38\n16024,commune,Xã Thiệu Vận,99\n").unwrap();
    let out = tramyte(&[
        "units",
        "import",
        broken.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3: commune code `123` must be the official 5 digits"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: parent 99 of 16024 is unknown"),
        "{stderr}"
    );

    let good = dir.join("units.csv");
    std::fs::write(&good, "code,kind,name,parent,unit_type\n38,province,Thanh Hóa,,\n16024,commune,Xã Thiệu Vận,38,xa\n").unwrap();
    let out = tramyte(&[
        "units",
        "import",
        good.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tramyte(&["units", "export", "--data-dir", data]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("16024,commune,Xã Thiệu Vận,38,xa,"));

    let out = tramyte(&[
        "user",
        "add",
        "lan.tyt",
        "--name",
        "Nguyễn Thị Lan (thử)",
        "--role",
        "station_staff",
        "--unit",
        "16024",
        "--data-dir",
        data,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password");
    assert_eq!(password.len(), 14);
    let out = tramyte(&[
        "user",
        "add",
        "x",
        "--name",
        "X",
        "--role",
        "pilot",
        "--data-dir",
        data,
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("role `pilot` is not one of"));
    let out = tramyte(&["user", "disable", "lan.tyt", "--data-dir", data]);
    assert!(out.status.success());
    let out = tramyte(&["user", "list", "--data-dir", data]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("lan.tyt\tstation_staff\tdisabled\t16024\t")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_indicator_sheet_is_exported_checked_and_imported_and_the_template_says_what_is_missing() {
    let dir = temp_dir("sheet");
    let data = dir.join("data");
    let data_arg = data.to_str().unwrap();
    let json = dir.join("test.json");
    std::fs::write(&json, TEST_CATALOG).unwrap();
    let out = tramyte(&[
        "catalog",
        "import",
        json.to_str().unwrap(),
        "--data-dir",
        data_arg,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let sheet = dir.join("test.xlsx");
    let out = tramyte(&[
        "catalog",
        "export",
        "TEST-CLI",
        "--to",
        sheet.to_str().unwrap(),
        "--data-dir",
        data_arg,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tramyte(&["catalog", "check", sheet.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("valid — TEST-CLI revision 1"), "{stdout}");
    // The same catalog again: recognised, nothing stored twice.
    let out = tramyte(&[
        "catalog",
        "import",
        sheet.to_str().unwrap(),
        "--data-dir",
        data_arg,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("already imported"), "{stdout}");

    let template = dir.join("template.xlsx");
    let out = tramyte(&["catalog", "template", "--to", template.to_str().unwrap()]);
    assert!(out.status.success());
    let out = tramyte(&["catalog", "check", template.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Bộ tiêu chí!B2: missing"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
