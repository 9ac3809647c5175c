import Foundation
import ParleyCore
import ParleySimulator
import ParleyStore

/// Files in the demo: a customer's photo on WhatsApp and Messenger and an invoice on Telegram,
/// hosted by the simulator and downloaded by the media worker like any provider's file.
enum DemoMedia {
    /// A 160×100 PNG: a parcel's label on a warm background.
    static let photo: [UInt8] = Array(Data(base64Encoded: [
        "iVBORw0KGgoAAAANSUhEUgAAAKAAAABkCAIAAACO1KzYAAAKiElEQVR42u3aRbLDAGJF0b9OLSLLCXPSGO7uQDMFvlgy0zfbkmVL6nFGGbjKdaaZBGxXnRW8",
        "O30fn78dPISIECNBigw5CpQYYIgRxphgihnmWGCJFb6wxgZb7LDHAUeccEaFGhc0uOKGFh16fLwDP3vg3wkeQkSIkSBFhhwFSgwwxAhjTDDFDHMssMQKX1hj",
        "gy122OOAI044o0KNCxpccUOLDj3egZ8+8O8GDyEixEiQIkOOAiUGGGKEMSaYYoY5FlhihS+sscEWO+xxwBEnnFGhxgUNrrihRYceH5+/FzyEiBAjQYoMOQqU",
        "GGCIEcaYYIoZ5lhgiRW+sMYGW+ywxwFHnHBGhRoXNLjihhYderwDP33g3w8eQkSIkSBFhhwFSgwwxAhjTDDFDHMssMQKX1hjgy122OOAI044o0KNCxpccUOL",
        "Dj3egZ8+8B8EDyEixEiQIkOOAiUGGGKEMSaYYoY5FlhihS+sscEWO+xxwBEnnFGhxgUNrrihRYceH59/GDyEiBAjQYoMOQqUGGCIEcaYYIoZ5lhgiRW+sMYG",
        "W+ywxwFHnHBGhRoXNLjihhYderwDP33gPwoeQkSIkSBFhhwFSgwwxAhjTDDFDHMssMQKX1hjgy122OOAI044o0KNCxpccUOLDj3egZ8+8B8HDyEixEiQIkOO",
        "AiUGGGKEMSaYYoY5FlhihS+sscEWO+xxwBEnnFGhxgUNrrihRYceH59/EjyEiBAjQYoMOQqUGGCIEcaYYIoZ5lhgiRW+sMYGW+ywxwFHnHBGhRoXNLjihhYd",
        "erwDP33gPw0eQkSIkSBFhhwFSgwwxAhjTDDFDHMssMQKX1hjgy122OOAI044o0KNCxpccUOLDj3egZ8+8J8FDyEixEiQIkOOAiUGGGKEMSaYYoY5FlhihS+s",
        "scEWO+xxwBEnnFGhxgUNrrihRYceH59/HjyEiBAjQYoMOQqUGGCIEcaYYIoZ5lhgiRW+sMYGW+ywxwFHnHBGhRoXNLjihhYderwDP33gvwgeQkSIkSBFhhwF",
        "SgwwxAhjTDDFDHMssMQKX1hjgy122OOAI044o0KNCxpccUOLDj3egZ8+8F8GDyEixEiQIkOOAiUGGGKEMSaYYoY5FlhihS+sscEWO+xxwBEnnFGhxgUNrrih",
        "RYceH5/fCB5CRIiRIEWGHAVKBL/1+WrO3wjuKtS4oMEVN7To0OMd+OkDfzN4CBEhRoIUGXIUKPGKgb8Z3FWocUGDK25o0aHHO/DTB/5W8BAiQowEKTLkKFDi",
        "FQN/K7irUOOCBlfc0KJDj4/PbwcPISLESJAiQ44CJV4x8LeDuwo1LmhwxQ0tOvR4B376wN8JHkJEiJEgRYYcBUq8YuDvBHcValzQ4IobWnTo8Q789IG/GzyE",
        "iBAjQYoMOQqUeMXA3w3uKtS4oMEVN7To0OPj86+ChxARYiRIkSFHgRKvGPivgrsKNS5ocMUNLTr0eAd++sB/HTyEiBAjQYoMOQqUeMXAfx3cVahxQYMrbmjR",
        "occ78NMH/pvgIUSEGAlSZMhRoMQrBv6b4K5CjQsaXHFDiw49Pj7/NngIESFGghQZchQo8d+a5je/+c//m/57gf82uKtQ44IGV9zQokOPd+CnD/x3wUOICDES",
        "pMiQo0CJVwz8d8FdhRoXNLjihhYderwDP33gvw8eQkSIkSBFhhwFSrxi4L8P7irUuKDBFTe06NDj4/MfgocQEWIkSJEhR4ESrxj4H4K7CjUuaHDFDS069HgH",
        "fvrA3wseQkSIkSBFhhwFSrxi4O8FdxVqXNDgihtadOjxDvz0gb8fPISIECNBigw5CpR4xcDfD+4q1LigwRU3tOjQ4+PzB8FDiAgxEqTIkKNAiVcM/IPgrkKN",
        "CxpccUOLDj3egZ8+8D8GDyEixEiQIkOOAiVeMfA/BncValzQ4IobWnTo8Q789IH/KXgIESFGghQZchQo8YqB/ym4q1DjggZX3NCiQ4+Pz38OHkJEiJEgRYYc",
        "BUq8YuB/Du4q1LigwRU3tOjQ4x346QP/S/AQIkKMBCky5ChQ4hUD/0twV6HGBQ2uuKFFhx7vwE8f+IfBQ4gIMRKkyJCjQIlXDPzD4K5CjQsaXHFDiw49Pj5/",
        "FDyEiBAjQYoMOQqUeMXAPwruKtS4oMEVN7To0OP/R+AneVX+7wT+cfAQIkKMBCky5ChQ4hUD/zi4q1DjggZX3NCiQ4934KcP/JPgIUSEGAlSZMhRoMQrBv5J",
        "cFehxgUNrrihRYceH58/DR5CRIiRIEWGHAVKvGLgnwZ3FWpc0OCKG1p06PEO/PSBfxY8hIgQI0GKDDkKlHjFwD8L7irUuKDBFTe06NDjHfjpA/88eAgRIUaC",
        "FBlyFCjxioF/HtxVqHFBgytuaNGhx8fnL4KHEBFiJEiRIUeBEq8Y+BfBXYUaFzS44oYWHXq8Az994F8GDyEixEiQIkOOAiVeMfAvg7sKNS5ocMUNLTr0eAd+",
        "+sC/Ch5CRIiRIEWGHAVKvGLgXwV3FWpc0OCKG1p06PHx+evgIUSEGAlSZMhRoMQrBv51cFehxgUNrrihRYce/2uBBxhihDEmmGKGORZYYoUvrLHBFjvsccAR",
        "J5zxPxv4X4OHEBFiJEiRIUeBEgMMMcIYE0wxwxwLLLHCF9bYYIsd9jjgiBPOqFDjggZX3NCiQ4934KcP/G/BQ4gIMRKkyJCjQIkBhhhhjAmmmGGOBZZY4Qtr",
        "bLDFDnsccMQJZ1SocUGDK25o0aHHx+e/Bw8hIsRIkCJDjgIlBhhihDEmmGKGORZYYoUvrLHBFjvsccARJ5xRocYFDa64oUWHHu/ATx/4P4KHEBFiJEiRIUeB",
        "EgMMMcIYE0wxwxwLLLHCF9bYYIsd9jjgiBPOqFDjggZX3NCiQ4934KcP/Bk8hIgQI0GKDDkKlBhgiBHGmGCKGeZYYIkVvrDGBlvssMcBR5xwRoUaFzS44oYW",
        "HXp8fIbBQ4gIMRKkyJCjQIkBhhhhjAmmmGGOBZZY4QtrbLDFDnsccMQJZ1SocUGDK25o0aHHO/DTB46ChxARYiRIkSFHgRIDDDHCGBNMMcMcCyyxwhfW2GCL",
        "HfY44IgTzqhQ44IGV9zQokOPd+CnDxwHDyEixEiQIkOOAiUGGGKEMSaYYoY5FlhihS+sscEWO+xxwBEnnFGhxgUNrrihRYceH59J8BAiQowEKTLkKFBigCFG",
        "GGOCKWaYY4ElVvjCGhtsscMeBxxxwhkValzQ4IobWnTo8Q789IHT4CFEhBgJUmTIUaDEAEOMMMYEU8wwxwJLrPCFNTbYYoc9DjjihDMq1LigwRU3tOjQ4x34",
        "6QNnwUOICDESpMiQo0CJAYYYYYwJpphhjgWWWOELa2ywxQ57HHDECWdUqHFBgytuaNGhx8dnHjyEiBAjQYoMOQqUGGCIEcaYYIoZ5lhgiRW+sMYGW+ywxwFH",
        "nHBGhRoXNLjihhYderwDP33gIngIESFGghQZchQoMcAQI4wxwRQzzLHAEit8YY0NtthhjwOOOOGMCjUuaHDFDS069HgHfvrAZfAQIkKMBCky5ChQYoAhRhhj",
        "gilmmGOBJVb4whobbLHDHgccccIZFWpc0OCKG1p06PFfVhwhkKygHL4AAAAASUVORK5CYII=",
    ].joined()) ?? Data())

    static let invoice: [UInt8] = Array("""
        %PDF-1.4
        1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
        2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
        3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj
        4 0 obj << /Length 44 >> stream
        BT /F1 18 Tf 20 70 Td (Invoice 1042) Tj ET
        endstream endobj
        5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj
        trailer << /Root 1 0 R >>
        %%EOF

        """.utf8)

    /// The file a channel's newest demo contact sent after their first message, as the provider names it.
    static func source(_ kind: ChannelKind, simulator: ProviderSimulator) -> (text: String, media: MediaSource)? {
        switch kind {
        case .whatsapp:
            let id = simulator.hostMedia(photo, contentType: "image/png", id: "demo-wa-photo")
            return ("This is the label on the parcel", MediaSource(kind: .image, reference: id, contentType: "image/png"))
        case .messenger:
            let id = simulator.hostMedia(photo, contentType: "image/png", id: "demo-fb-photo")
            return ("[image]", MediaSource(kind: .image, reference: simulator.cdnURL(id)))
        case .telegram:
            let id = simulator.hostMedia(invoice, contentType: "application/pdf", fileName: "invoice-1042.pdf", id: "demo-tg-invoice")
            return ("[document] invoice-1042.pdf", MediaSource(kind: .document, reference: id, fileName: "invoice-1042.pdf"))
        default:
            return nil
        }
    }
}
