import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyServer
import ParleyStore

/// `parley demo`'s shop: a small site on its own port (so another origin, as a customer's site
/// is) with the website chat widget on it, a strict CSP, and a "sign in" that verifies the
/// visitor with `Parley.setUser` the way a real site's server would.
struct DemoShop {
    let port: Int
    let parleyURL: String
    let channel: WebchatChannel

    static let customer = (identifier: "customer-1001", name: "Rosa Martínez", email: "rosa1001@example.com")

    var origin: String { "http://127.0.0.1:\(port)" }

    /// Creates the demo's website chat channel, allowed on the shop's origin.
    static func createChannel(services: Services, workspaceId: Int64, shopPort: Int) async throws -> WebchatChannel {
        let settings = WebchatSettings(allowedOrigins: ["http://127.0.0.1:\(shopPort)", "http://localhost:\(shopPort)"], color: "#0f766e",
                                       greeting: "Hi! Questions about an order? We usually answer within minutes.", prechatForm: true)
        let channel = try await services.channels.create(workspaceId: workspaceId, kind: .webchat, name: "Shop chat", credentials: [:],
                                                         apiBaseUrl: nil, webchat: settings, actorUserId: nil, at: services.clock.now())
        guard let webchat = try await services.webchat.find(channelId: channel.id) else { throw StoreError.notFound("webchat channel") }
        return webchat
    }

    func application() -> some ApplicationProtocol {
        let router = Router()
        let csp = HTTPField.Name("Content-Security-Policy")!
        // What a careful shop sends: its own scripts and styles, plus Parley's script and frame.
        let policy = "default-src 'self'; script-src 'self' \(parleyURL); frame-src \(parleyURL); style-src 'self'; img-src 'self' data:; object-src 'none'"
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", csp: policy], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        router.get("/shop.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css"], body: .init(byteBuffer: ByteBuffer(string: Self.stylesheet)))
        }
        router.get("/shop.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript"], body: .init(byteBuffer: ByteBuffer(string: Self.script)))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "Parley demo shop"))
    }

    /// The shop's own server signs its signed-in customer's identifier with the channel's secret.
    var identifierHash: String {
        HMAC<SHA256>.authenticationCode(for: Data(Self.customer.identifier.utf8), using: SymmetricKey(data: Data(channel.identitySecret.utf8)))
            .hexEncoded
    }

    var page: String {
        let products = [("Linen shirt", "€39"), ("Canvas tote", "€19"), ("Wool socks", "€12"), ("Rain jacket", "€89")]
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Parley demo shop</title>
            <link rel="stylesheet" href="/shop.css">
            </head>
            <body>
            <header><h1>Parley demo shop</h1>
            <button id="sign-in" data-identifier="\(Self.customer.identifier)" data-hash="\(identifierHash)" data-name="\(Self.customer.name)" data-email="\(Self.customer.email)">Sign in as \(Self.customer.name)</button>
            <button id="sign-out" hidden>Sign out</button></header>
            <main><p>Everything here is pretend. The chat in the corner is real: it reaches the demo's web inbox.</p>
            <ul class="products">\(products.map { "<li><strong>\($0.0)</strong><span>\($0.1)</span></li>" }.joined())</ul>
            <p><button id="help">Need help? Chat with us</button></p></main>
            <script src="/shop.js"></script>
            <script src="\(parleyURL)/widget.js" data-channel="\(channel.publicKey)" async></script>
            </body>
            </html>
            """
    }

    static let stylesheet = """
        body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1f2937; background: #fafaf9; }
        header { display: flex; gap: 12px; align-items: center; padding: 16px 24px; background: #fff; border-bottom: 1px solid #e7e5e4; }
        header h1 { flex: 1; font-size: 20px; margin: 0; }
        main { padding: 24px; max-width: 760px; }
        .products { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 12px; }
        .products li { background: #fff; border: 1px solid #e7e5e4; border-radius: 10px; padding: 16px; display: grid; gap: 6px; }
        button { font: inherit; padding: 6px 12px; border-radius: 8px; border: 1px solid #d6d3d1; background: #fff; cursor: pointer; }
        """

    /// The shop's own script: the widget's JavaScript API in use.
    static let script = """
        document.getElementById("help").addEventListener("click", () => window.Parley && Parley.open());
        const signIn = document.getElementById("sign-in"), signOut = document.getElementById("sign-out");
        signIn.addEventListener("click", () => {
          const d = signIn.dataset;
          Parley.setUser({ identifier: d.identifier, identifierHash: d.hash, name: d.name, email: d.email });
          signIn.hidden = true; signOut.hidden = false;
        });
        signOut.addEventListener("click", () => { Parley.reset(); signIn.hidden = false; signOut.hidden = true; });
        """
}
