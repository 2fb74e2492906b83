//! hello-rust: a wisp service in Rust with no SDK, run as CGI (WAGI): the
//! request in environment variables and on stdin, the response on stdout.
//! Each request runs in a fresh instance.
use std::env;
use std::io::{self, Read, Write};

fn var(name: &str) -> String {
    env::var(name).unwrap_or_default()
}

fn main() {
    let method = var("REQUEST_METHOD");
    let path = var("PATH_INFO");
    let out = io::stdout();
    let mut out = out.lock();
    match (method.as_str(), path.as_str()) {
        ("GET", "") | ("GET", "/") => {
            write!(out, "Content-Type: text/plain; charset=utf-8\n\nHello, world!").unwrap();
        }
        ("GET", "/query") => {
            let pairs: Vec<String> = var("QUERY_STRING")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| format!("{:?}", p))
                .collect();
            write!(out, "Content-Type: application/json\n\n{{\"pairs\":[{}]}}", pairs.join(",")).unwrap();
        }
        ("POST", "/upper") => {
            let mut body = String::new();
            io::stdin().read_to_string(&mut body).unwrap();
            write!(out, "Content-Type: text/plain; charset=utf-8\n\n{}", body.to_uppercase()).unwrap();
        }
        ("GET", "/spin") => {
            // Runs until the request's deadline stops the instance.
            let mut n: u64 = 0;
            loop {
                n = unsafe { std::ptr::read_volatile(&n) }.wrapping_add(1);
            }
        }
        _ => {
            write!(out, "Status: 404 Not Found\nContent-Type: text/plain\n\nno page at {} {}\n", method, path).unwrap();
        }
    }
}
