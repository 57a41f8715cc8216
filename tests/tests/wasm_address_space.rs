//! The WASM instance pool reserves its address space up front. Where the process may
//! not have that much (`ulimit -v`, some sandboxes), Weir must still start and run its
//! filters, allocating instances on demand, and say so in its log.

use weir_tests::net::{client, free_port};
use weir_tests::yaml::validator_then_proxy;
use weir_tests::{Backend, Weir};

/// Far below the pool's reservation (a thousand memory slots of 4 GiB each, or of
/// 256 MiB each where the address space is limited), far above what Weir itself needs.
const ADDRESS_SPACE: u64 = 16 << 30;

#[tokio::test]
async fn filters_run_when_the_instance_pool_cannot_reserve_its_address_space() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let validator = "    headers:\n      X-Key:\n        values: [ok]\n";
    let weir = Weir::start_with_address_space_limit(
        &validator_then_proxy(port, validator, &backend.url()),
        ADDRESS_SPACE,
        &[port],
    );
    let client = client();
    let url = format!("http://127.0.0.1:{port}/");
    for _ in 0..3 {
        let refused = client.get(&url).send().await.unwrap();
        assert_eq!(refused.status(), 400);
        let passed = client.get(&url).header("x-key", "ok").send().await.unwrap();
        assert_eq!(passed.status(), 200);
    }
    assert_eq!(backend.hits(), 3);
    assert!(weir.logged("allocating instances on demand"), "{}", weir.stderr());
}
