//! Validator's `basicAuth` rule end to end: an htpasswd file next to the configuration,
//! its `$apr1$` and `{SHA}` entries made at test time with the `openssl` CLI (bcrypt
//! entries are covered by the validator's unit tests: nothing here makes them).

use std::process::Command;
use weir_tests::net::{client, free_port};
use weir_tests::yaml::validator_then_proxy;
use weir_tests::{Backend, Weir};

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).output().expect("the openssl CLI");
    assert!(out.status.success(), "openssl {args:?} failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `{SHA}` + base64 of the SHA-1 of `password`.
fn sha_entry(password: &str) -> String {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p");
    std::fs::write(&file, password).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha1", "-binary"])
        .arg(&file)
        .output()
        .unwrap();
    format!(
        "{{SHA}}{}",
        base64::engine::general_purpose::STANDARD.encode(out.stdout)
    )
}

#[tokio::test]
async fn htpasswd_users_pass_and_others_get_401() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let htpasswd = format!(
        "# made by the test\nada:{}\nbob:{}\n",
        openssl(&["passwd", "-apr1", "-salt", "x9Yz1Ab2", "lovelace"]),
        sha_entry("builder")
    );
    let config = validator_then_proxy(
        port,
        "    basicAuth:\n      mode: FILE\n      userFile: users.htpasswd\n",
        &backend.url(),
    );
    let _weir = Weir::start_with_files(&config, &[("users.htpasswd", htpasswd.as_bytes())], &[port]);
    let client = client();
    let send = |user: &str, password: &str| {
        client
            .get(format!("http://127.0.0.1:{port}/"))
            .basic_auth(user, Some(password))
            .send()
    };
    let ok = send("ada", "lovelace").await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let echoed: serde_json::Value = ok.json().await.unwrap();
    assert!(
        echoed["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "x-auth-user: ada"),
        "the backend learns the user: {echoed}"
    );
    assert_eq!(send("bob", "builder").await.unwrap().status().as_u16(), 200);
    let wrong = send("ada", "babbage").await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert_eq!(wrong.text().await.unwrap(), "");
    assert_eq!(send("eve", "lovelace").await.unwrap().status().as_u16(), 401);
    let none = client.get(format!("http://127.0.0.1:{port}/")).send().await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    assert_eq!(backend.hits(), 2);
}
