//! `tramyte backup` copies a serving SQLite database under sync load, and `tramyte restore`
//! brings the copy back: every change acknowledged before the backup began is there. A restore
//! is refused while a server serves the database, and a file that is not a backup is refused
//! with a clear line and changes nothing.

use std::path::Path;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use tokio::sync::watch;
use tramyte_tests::hostile::keep_editing;
use tramyte_tests::process::{ServerProcess, tramyte_binary};
use tramyte_tests::server::TempDir;
use tramyte_tests::sync_client::SyncClient;

const SETTLED_EDITS: i64 = 30;

async fn tramyte(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(tramyte_binary())
        .args(args)
        .env("TRAMYTE_LOG", "warn")
        .output()
        .await
        .expect("run tramyte")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn counter(doc: &impl ReadDoc) -> i64 {
    match doc.get(automerge::ROOT, "counter").unwrap() {
        Some((automerge::Value::Scalar(value), _)) => match value.as_ref() {
            automerge::ScalarValue::Int(i) => *i,
            other => panic!("counter is {other:?}"),
        },
        other => panic!("counter is {other:?}"),
    }
}

fn dir_arg(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

/// `tramyte backup --to FILE --data-dir DIR` or `tramyte restore --from FILE --data-dir DIR`.
async fn on_data_dir(command: &str, file: &Path, data_dir: &Path) -> std::process::Output {
    let flag = if command == "backup" {
        "--to"
    } else {
        "--from"
    };
    tramyte(&[
        command,
        flag,
        dir_arg(file),
        "--data-dir",
        dir_arg(data_dir),
    ])
    .await
}

/// The command failed and said `words` on stderr.
fn failed_saying(out: &std::process::Output, words: &str) {
    assert!(!out.status.success(), "{words}: it succeeded");
    assert!(text(&out.stderr).contains(words), "{}", text(&out.stderr));
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_every_change_acknowledged_before_it() {
    let served = TempDir::new("backup-served");
    let server = ServerProcess::start(&["--open", "--data-dir", dir_arg(&served.0)]).await;

    // One document edited and acknowledged to the end before the backup...
    let settled = tramyte_server::store::document::new_document_id().unwrap();
    let mut phone = SyncClient::new("phone");
    phone.connect(&server.url).await;
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "title", "Trạm Y tế xã Thiệu Vận")
        .unwrap();
    doc.commit();
    phone.insert(settled, doc).await;
    phone.settle(settled).await;
    for i in 0..SETTLED_EDITS {
        phone
            .edit(settled, |doc| {
                doc.put(automerge::ROOT, format!("edit-{i}"), i).unwrap()
            })
            .await;
        phone.settle(settled).await;
    }
    // ...and one edited all along, before, during and after it.
    let busy = tramyte_server::store::document::new_document_id().unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let (editing, progress) = keep_editing(&server.url, busy, 5, stop_rx).await;
    let mut progress_now = progress.clone();
    progress_now
        .wait_for(|done| *done >= 5)
        .await
        .expect("the editing client runs");
    // Edits 0..n-1 are acknowledged now: the last of them wrote counter = n - 1.
    let acknowledged_before = i64::try_from(*progress.borrow()).unwrap() - 1;

    let backup_dir = TempDir::new("backup-file");
    let backup_file = backup_dir.0.join("tramyte-backup.db");
    let out = on_data_dir("backup", &backup_file, &served.0).await;
    assert!(out.status.success(), "backup: {}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.starts_with("backed up to ") && said.contains("2 documents"),
        "{said}"
    );
    let editing_during = *progress.borrow();

    // A second backup never overwrites the first.
    let again = on_data_dir("backup", &backup_file, &served.0).await;
    failed_saying(&again, "already exists");

    // Restoring over the database the server is serving is refused, and changes nothing.
    let refused = on_data_dir("restore", &backup_file, &served.0).await;
    failed_saying(&refused, "stop it before restoring");
    assert!(!served.0.join("tramyte.db.before-restore").exists());

    let _ = stop.send(true);
    let steady = editing.await.unwrap();
    assert!(steady.acks.len() >= editing_during, "the load went on");
    server.kill().await;

    // A file that is not a backup: one clear line, nothing restored.
    let garbage = backup_dir.0.join("notes.txt");
    std::fs::write(&garbage, "ghi chú, không phải bản sao lưu").unwrap();
    let restored = TempDir::new("backup-restored");
    let out = on_data_dir("restore", &garbage, &restored.0).await;
    failed_saying(&out, "is not a tramyte backup");
    assert!(!restored.0.join("tramyte.db").exists());

    let check = tramyte(&[
        "restore",
        "--check",
        "--from",
        backup_file.to_str().unwrap(),
    ])
    .await;
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(
        text(&check.stdout).contains("is a good backup"),
        "{}",
        text(&check.stdout)
    );

    let out = on_data_dir("restore", &backup_file, &restored.0).await;
    assert!(out.status.success(), "restore: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("restored "),
        "{}",
        text(&out.stdout)
    );

    let server = ServerProcess::start(&["--open", "--data-dir", dir_arg(&restored.0)]).await;
    let mut reader = SyncClient::new("reader");
    reader.connect(&server.url).await;
    for id in [settled, busy] {
        reader.request(id).await;
        reader.settle(id).await;
    }
    let doc = reader.client.doc(&settled).unwrap();
    for i in 0..SETTLED_EDITS {
        assert!(
            doc.get(automerge::ROOT, format!("edit-{i}"))
                .unwrap()
                .is_some(),
            "edit {i} acknowledged before the backup is in it"
        );
    }
    let busy_doc = reader.client.doc(&busy).unwrap();
    assert!(
        counter(busy_doc) >= acknowledged_before,
        "the busy document has every edit acknowledged before the backup ({} < {acknowledged_before})",
        counter(busy_doc)
    );
    server.kill().await;
}
