//! An emulated network link for benchmarks and tests: a TCP relay on loopback that delays every
//! chunk by a fixed one-way time from the moment it arrives, in both directions (and the same for
//! UDP datagrams, for DNS and Kerberos). Chunks are not
//! queued behind each other's delay (a chunk that arrives 0.1 ms after another leaves 0.1 ms after
//! it), so a client that keeps requests in flight gains what it would gain on a real link. TLS and
//! Kerberos pass through unchanged: the relay sees bytes only. Written here because the kernel of
//! the machines this runs on has no netem (CONFIG_NET_SCH_NETEM is not set) and no crate found
//! offers a relay with a per-chunk delay that does not serialise.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A running relay. Dropping it stops accepting; open connections end with their peers.
#[derive(Debug)]
pub struct Link {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Link {
    /// Listens on 127.0.0.1 (a free port) and relays each connection to `upstream`, each chunk
    /// `one_way` late in each direction (a round trip of twice that).
    pub async fn start(upstream: SocketAddr, one_way: Duration) -> std::io::Result<Link> {
        Link::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), upstream, one_way).await
    }

    /// [`Link::start`] listening on `listen` (a fixed port: DNS and Kerberos clients find their
    /// servers on 53 and 88).
    pub async fn start_at(listen: SocketAddr, upstream: SocketAddr, one_way: Duration) -> std::io::Result<Link> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pipe(cr, sw, one_way), pipe(sr, cw, one_way));
                });
            }
        });
        Ok(Link { addr, task })
    }

    /// Stops accepting and waits until the listening socket is closed (its port free again);
    /// connections already relayed end with their peers.
    pub async fn stop(self) {
        self.task.abort();
        let _ = (&mut { self }.task).await;
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// The same link for datagrams (DNS and Kerberos ask over UDP first): each datagram from a client
/// goes on `one_way` after it arrived, from a socket of the relay's own for that client, and each
/// answer goes back `one_way` after it arrived. No datagram waits for another.
#[derive(Debug)]
pub struct UdpLink {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for UdpLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl UdpLink {
    pub async fn start_at(listen: SocketAddr, upstream: SocketAddr, one_way: Duration) -> std::io::Result<UdpLink> {
        use std::collections::HashMap;
        use std::sync::Arc;
        use tokio::net::UdpSocket;
        let front = UdpSocket::bind(listen).await?;
        let addr = front.local_addr()?;
        // Everything lives in this one task, so that stopping it closes every socket at once.
        let task = tokio::spawn(async move {
            let (up_tx, mut up_rx) = mpsc::unbounded_channel::<(Instant, Arc<UdpSocket>, Vec<u8>)>();
            let (back_tx, mut back_rx) = mpsc::unbounded_channel::<(Instant, SocketAddr, Vec<u8>)>();
            let front = &front;
            // The delay is the same for all, so each queue is in time order: sleeping until each
            // one's time delays none behind another.
            let forward = async move {
                while let Some((at, socket, datagram)) = up_rx.recv().await {
                    tokio::time::sleep_until(at).await;
                    let _ = socket.send(&datagram).await;
                }
            };
            let backward = async move {
                while let Some((at, client, answer)) = back_rx.recv().await {
                    tokio::time::sleep_until(at).await;
                    let _ = front.send_to(&answer, client).await;
                }
            };
            let accept = async move {
                // Each client's own socket towards the server, and its answers' readers.
                let mut toward: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
                let mut readers = tokio::task::JoinSet::new();
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok((n, client)) = front.recv_from(&mut buf).await {
                    let at = Instant::now() + one_way;
                    let socket = match toward.get(&client) {
                        Some(socket) => socket.clone(),
                        None => {
                            let Ok(socket) = UdpSocket::bind(SocketAddr::new(listen.ip(), 0)).await else { continue };
                            if socket.connect(upstream).await.is_err() {
                                continue;
                            }
                            let socket = Arc::new(socket);
                            let (back, back_tx) = (socket.clone(), back_tx.clone());
                            readers.spawn(async move {
                                let mut buf = vec![0u8; 64 * 1024];
                                while let Ok(n) = back.recv(&mut buf).await {
                                    if back_tx.send((Instant::now() + one_way, client, buf[..n].to_vec())).is_err() {
                                        return;
                                    }
                                }
                            });
                            toward.insert(client, socket.clone());
                            socket
                        }
                    };
                    if up_tx.send((at, socket, buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            };
            tokio::join!(forward, backward, accept);
        });
        Ok(UdpLink { addr, task })
    }

    /// Stops relaying and waits until every socket of the link is closed (its port free again).
    pub async fn stop(self) {
        self.task.abort();
        let _ = (&mut { self }.task).await;
    }

    /// Where clients send.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// One direction: a reader that stamps each chunk with its departure time as it arrives, and a
/// writer that sends each at its time, in order.
async fn pipe(mut from: tokio::net::tcp::OwnedReadHalf, mut to: tokio::net::tcp::OwnedWriteHalf, delay: Duration) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that echoes what it reads.
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_round_trip_takes_the_delay_both_ways_and_requests_in_flight_share_it() {
        let one_way = Duration::from_millis(25);
        let link = Link::start(echo().await, one_way).await.unwrap();
        let mut s = TcpStream::connect(link.addr()).await.unwrap();
        s.set_nodelay(true).unwrap();
        let started = std::time::Instant::now();
        s.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        s.read_exact(&mut one).await.unwrap();
        let rtt = started.elapsed();
        assert!(rtt >= 2 * one_way, "the relay adds its delay each way: {rtt:?}");
        // 100 requests sent at once, answered in order: about one round trip for all of them,
        // where one at a time would take 100.
        let sent: Vec<u8> = (0..100u32).flat_map(|i| i.to_be_bytes()).collect();
        let started = std::time::Instant::now();
        for chunk in sent.chunks(4) {
            s.write_all(chunk).await.unwrap();
        }
        let mut back = vec![0u8; sent.len()];
        s.read_exact(&mut back).await.unwrap();
        let all = started.elapsed();
        assert_eq!(back, sent, "order kept");
        assert!(all >= 2 * one_way && all < 20 * 2 * one_way, "in flight, not one after another: {all:?}");
    }

    /// A server that echoes each datagram.
    async fn udp_echo() -> SocketAddr {
        let socket = tokio::net::UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let _ = socket.send_to(&buf[..n], from).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_datagram_takes_the_delay_both_ways_and_datagrams_in_flight_share_it() {
        let one_way = Duration::from_millis(25);
        let link = UdpLink::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), udp_echo().await, one_way).await.unwrap();
        let s = tokio::net::UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        s.connect(link.addr()).await.unwrap();
        let mut buf = [0u8; 16];
        let started = std::time::Instant::now();
        s.send(b"one").await.unwrap();
        let n = s.recv(&mut buf).await.unwrap();
        let rtt = started.elapsed();
        assert_eq!(&buf[..n], b"one");
        assert!(rtt >= 2 * one_way, "the relay adds its delay each way: {rtt:?}");
        let started = std::time::Instant::now();
        for i in 0..50u32 {
            s.send(&i.to_be_bytes()).await.unwrap();
        }
        let mut seen = Vec::new();
        for _ in 0..50 {
            let n = s.recv(&mut buf).await.unwrap();
            seen.push(u32::from_be_bytes(buf[..n].try_into().unwrap()));
        }
        let all = started.elapsed();
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>(), "every datagram answered");
        assert!(all >= 2 * one_way && all < 10 * 2 * one_way, "in flight, not one after another: {all:?}");
    }

    #[tokio::test]
    async fn every_byte_goes_through_in_order() {
        let link = Link::start(echo().await, Duration::from_millis(2)).await.unwrap();
        let s = TcpStream::connect(link.addr()).await.unwrap();
        let (mut r, mut w) = s.into_split();
        let data: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let writer = tokio::spawn(async move { w.write_all(&data).await.unwrap() });
        let mut back = vec![0u8; expected.len()];
        r.read_exact(&mut back).await.unwrap();
        writer.await.unwrap();
        assert!(back == expected, "4 MiB through the relay, unchanged");
    }
}
