//! An in-memory host with the same surface as the generated bindings, so that filters
//! compile and run natively in unit tests. Driven through [`crate::testing`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A request or a response held in memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct Message {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub host: Option<String>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
    fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn set_header(&mut self, name: &str, value: &str) -> Result<(), String> {
        self.remove_header(name);
        self.add_header(name, value)
    }
    fn add_header(&mut self, name: &str, value: &str) -> Result<(), String> {
        check_header(name, value)?;
        self.headers.push((name.to_ascii_lowercase(), value.to_string()));
        Ok(())
    }
    fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

/// The same checks the host makes, so a test fails where production would.
fn check_header(name: &str, value: &str) -> Result<(), String> {
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
    if !name_ok {
        return Err(format!("invalid header name {name:?}"));
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(format!("invalid value for header {name:?}"));
    }
    Ok(())
}

/// The same shape as the generated `header-edit` variant (ABI 1.2.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEdit {
    Set((String, String)),
    Add((String, String)),
    Remove(String),
}

/// As the host does: a refused edit is skipped, the others apply, each refusal is told.
fn apply_edits(message: &mut Message, edits: &[HeaderEdit]) -> Vec<String> {
    let mut refused = Vec::new();
    for edit in edits {
        let done = match edit {
            HeaderEdit::Set((name, value)) => message.set_header(name, value),
            HeaderEdit::Add((name, value)) => message.add_header(name, value),
            HeaderEdit::Remove(name) => {
                message.remove_header(name);
                Ok(())
            }
        };
        if let Err(e) = done {
            refused.push(e);
        }
    }
    refused
}

pub(crate) type Shared = Rc<RefCell<Message>>;

#[derive(Default)]
pub(crate) struct Slot {
    pub request: Option<Shared>,
    pub response: Option<Shared>,
}

/// What a guard's calls learn, and the deadline it set.
#[derive(Debug, Default, Clone)]
pub(crate) struct GuardView {
    pub attempt: u32,
    pub result: Option<String>,
    pub micros: Option<u64>,
    pub deadline: Option<u32>,
}

pub struct Exchange {
    pub(crate) namespace: String,
    pub(crate) slots: Rc<RefCell<BTreeMap<String, Slot>>>,
    pub(crate) client_addr: String,
    pub(crate) data: Rc<RefCell<Vec<(String, String)>>>,
    pub(crate) guard: Rc<RefCell<GuardView>>,
}

impl Exchange {
    pub fn request(&self) -> Option<Request> {
        self.request_of(&self.namespace)
    }
    pub fn response(&self) -> Option<Response> {
        self.response_of(&self.namespace)
    }
    pub fn request_of(&self, namespace: &str) -> Option<Request> {
        let slots = self.slots.borrow();
        slots.get(namespace)?.request.clone().map(Request)
    }
    pub fn response_of(&self, namespace: &str) -> Option<Response> {
        let slots = self.slots.borrow();
        slots.get(namespace)?.response.clone().map(Response)
    }
    pub fn set_response(&self, response: &BuiltResponse) -> Result<(), String> {
        for (name, value) in &response.headers {
            check_header(name, value)?;
        }
        let message = Message {
            status: response.status,
            headers: response.headers.clone(),
            body: response.body.clone(),
            ..Message::default()
        };
        let mut slots = self.slots.borrow_mut();
        slots.entry(self.namespace.clone()).or_default().response = Some(Rc::new(RefCell::new(message)));
        Ok(())
    }
    pub fn client_addr(&self) -> String {
        self.client_addr.clone()
    }
    pub fn namespace(&self) -> String {
        self.namespace.clone()
    }
    pub fn data(&self, key: &str) -> Option<String> {
        let data = self.data.borrow();
        data.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
    pub fn set_data(&self, key: &str, value: &str) {
        let mut data = self.data.borrow_mut();
        match data.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_string(),
            None => data.push((key.to_string(), value.to_string())),
        }
    }
    pub fn data_all(&self) -> Vec<(String, String)> {
        self.data.borrow().clone()
    }
    pub fn attempt(&self) -> u32 {
        self.guard.borrow().attempt.max(1)
    }
    pub fn guarded_result(&self) -> Option<String> {
        self.guard.borrow().result.clone()
    }
    pub fn guarded_micros(&self) -> Option<u64> {
        self.guard.borrow().micros
    }
    pub fn set_deadline(&self, millis: u32) {
        let mut guard = self.guard.borrow_mut();
        if guard.result.is_none() {
            guard.deadline = Some(millis);
        }
    }
    pub fn request_header_values(&self, name: &str) -> Option<Vec<String>> {
        self.request().map(|r| r.header_all(name))
    }
    pub fn request_method_path(&self) -> Option<(String, String)> {
        self.request().map(|r| (r.method(), r.path()))
    }
    pub fn edit_request_headers(&self, edits: &[HeaderEdit]) -> Vec<String> {
        let mut slots = self.slots.borrow_mut();
        let slot = slots.entry(self.namespace.clone()).or_default();
        // As the host: a namespace other than DEFAULT gets an empty request on first use.
        if slot.request.is_none() && self.namespace != "DEFAULT" {
            let empty = Message {
                method: "GET".into(),
                path: "/".into(),
                ..Message::default()
            };
            slot.request = Some(Rc::new(RefCell::new(empty)));
        }
        match &slot.request {
            Some(request) => apply_edits(&mut request.borrow_mut(), edits),
            None => vec!["the test exchange has no DEFAULT request".to_string()],
        }
    }
    pub fn response_header_values(&self, name: &str) -> Option<Vec<String>> {
        self.response().map(|r| r.header_all(name))
    }
    pub fn edit_response_headers(&self, edits: &[HeaderEdit]) -> Option<Vec<String>> {
        self.response().map(|r| apply_edits(&mut r.0.borrow_mut(), edits))
    }
}

pub struct Request(pub(crate) Shared);

impl Request {
    pub fn method(&self) -> String {
        self.0.borrow().method.clone()
    }
    pub fn set_method(&self, method: &str) -> Result<(), String> {
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!("invalid method {method:?}"));
        }
        self.0.borrow_mut().method = method.to_string();
        Ok(())
    }
    pub fn path(&self) -> String {
        self.0.borrow().path.clone()
    }
    pub fn set_path(&self, path: &str) -> Result<(), String> {
        if !path.starts_with('/') {
            return Err(format!("path {path:?} must start with /"));
        }
        self.0.borrow_mut().path = path.to_string();
        Ok(())
    }
    pub fn query(&self) -> Option<String> {
        self.0.borrow().query.clone()
    }
    pub fn set_query(&self, query: Option<&str>) -> Result<(), String> {
        self.0.borrow_mut().query = query.map(str::to_string);
        Ok(())
    }
    pub fn host(&self) -> Option<String> {
        let m = self.0.borrow();
        m.host.clone().or_else(|| m.header("host"))
    }
    pub fn set_host(&self, host: &str) -> Result<(), String> {
        let mut m = self.0.borrow_mut();
        m.host = Some(host.to_string());
        m.set_header("host", host)
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.0.borrow().header(name)
    }
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.0.borrow().header_all(name)
    }
    pub fn set_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.borrow_mut().set_header(name, value)
    }
    pub fn add_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.borrow_mut().add_header(name, value)
    }
    pub fn remove_header(&self, name: &str) {
        self.0.borrow_mut().remove_header(name)
    }
    pub fn headers(&self) -> Vec<(String, String)> {
        self.0.borrow().headers.clone()
    }
    pub fn body(&self) -> Result<Vec<u8>, String> {
        Ok(self.0.borrow().body.clone())
    }
    pub fn set_body(&self, body: &[u8]) {
        self.0.borrow_mut().body = body.to_vec();
    }
}

pub struct Response(pub(crate) Shared);

impl Response {
    pub fn status(&self) -> u16 {
        self.0.borrow().status
    }
    pub fn set_status(&self, status: u16) -> Result<(), String> {
        if !(100..=999).contains(&status) {
            return Err(format!("invalid status {status}"));
        }
        self.0.borrow_mut().status = status;
        Ok(())
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.0.borrow().header(name)
    }
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.0.borrow().header_all(name)
    }
    pub fn set_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.borrow_mut().set_header(name, value)
    }
    pub fn add_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.borrow_mut().add_header(name, value)
    }
    pub fn remove_header(&self, name: &str) {
        self.0.borrow_mut().remove_header(name)
    }
    pub fn headers(&self) -> Vec<(String, String)> {
        self.0.borrow().headers.clone()
    }
    pub fn body(&self) -> Result<Vec<u8>, String> {
        Ok(self.0.borrow().body.clone())
    }
    pub fn set_body(&self, body: &[u8]) {
        self.0.borrow_mut().body = body.to_vec();
    }
}

pub struct BuiltResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub mod log {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Level {
        Trace,
        Debug,
        Info,
        Warn,
        Error,
    }

    thread_local! {
        pub(crate) static LINES: std::cell::RefCell<Vec<(Level, String)>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    pub fn log(level: Level, message: &str) {
        LINES.with(|l| l.borrow_mut().push((level, message.to_string())));
    }
}

pub mod clock {
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    pub fn now_millis() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    pub fn monotonic_nanos() -> u64 {
        thread_local!(static START: Instant = Instant::now());
        START.with(|s| s.elapsed().as_nanos() as u64)
    }

    pub fn sleep(millis: u32) {
        std::thread::sleep(std::time::Duration::from_millis(millis.into()));
    }
}

pub mod runtime {
    use std::cell::Cell;

    thread_local!(pub(crate) static NEVER_WAITS: Cell<bool> = const { Cell::new(false) });

    pub fn never_waits() {
        NEVER_WAITS.with(|promised| promised.set(true));
    }
}

pub mod random {
    use std::cell::Cell;

    thread_local!(static SEED: Cell<u64> = Cell::new(super::clock::now_millis() | 1));

    /// xorshift64*: tests need variety, not cryptographic quality.
    pub fn random_u64() -> u64 {
        SEED.with(|s| {
            let mut x = s.get();
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            s.set(x);
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        })
    }

    pub fn random_bytes(len: u32) -> Vec<u8> {
        (0..len).map(|_| random_u64() as u8).collect()
    }
}

pub mod state {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    thread_local! {
        pub(crate) static COUNTERS: RefCell<HashMap<String, (i64, Option<Instant>)>> = RefCell::new(HashMap::new());
    }

    fn live(map: &mut HashMap<String, (i64, Option<Instant>)>, key: &str) -> Option<i64> {
        match map.get(key) {
            Some((_, Some(expiry))) if *expiry <= Instant::now() => {
                map.remove(key);
                None
            }
            Some((value, _)) => Some(*value),
            None => None,
        }
    }

    fn expiry(ttl_millis: Option<u64>) -> Option<Instant> {
        ttl_millis.map(|ms| Instant::now() + Duration::from_millis(ms))
    }

    pub fn add(key: &str, delta: i64, ttl_millis: Option<u64>) -> i64 {
        COUNTERS.with(|c| {
            let mut map = c.borrow_mut();
            let value = live(&mut map, key).unwrap_or(0).wrapping_add(delta);
            map.insert(key.to_string(), (value, expiry(ttl_millis)));
            value
        })
    }

    pub fn get(key: &str) -> Option<i64> {
        COUNTERS.with(|c| live(&mut c.borrow_mut(), key))
    }

    pub fn compare_and_swap(key: &str, expected: Option<i64>, new: i64, ttl_millis: Option<u64>) -> bool {
        COUNTERS.with(|c| {
            let mut map = c.borrow_mut();
            if live(&mut map, key) != expected {
                return false;
            }
            map.insert(key.to_string(), (new, expiry(ttl_millis)));
            true
        })
    }

    pub fn remove(key: &str) {
        COUNTERS.with(|c| c.borrow_mut().remove(key));
    }
}

pub mod http_client {
    use std::cell::RefCell;

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct OutgoingRequest {
        pub method: String,
        pub url: String,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
        pub timeout_millis: Option<u32>,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct IncomingResponse {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    pub(crate) type Responder = Box<dyn Fn(&OutgoingRequest) -> Result<IncomingResponse, String>>;

    thread_local! {
        pub(crate) static RESPONDER: RefCell<Option<Responder>> = const { RefCell::new(None) };
    }

    pub fn call(request: &OutgoingRequest) -> Result<IncomingResponse, String> {
        RESPONDER.with(|r| match &*r.borrow() {
            Some(respond) => respond(request),
            None => Err(format!(
                "{} is not allowed: the test set no responder (weir_sdk::testing::respond_to_http)",
                request.url
            )),
        })
    }
}
