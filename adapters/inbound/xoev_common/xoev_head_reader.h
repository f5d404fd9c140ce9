// Reads the parts every XÖV message head shares (identifikation.nachricht, leser,
// autor) whichever head variant carries them. Namespaces are ignored on purpose:
// the same head appears qualified (bn-g2g:), unqualified, and inside XInneres.
#pragma once

#include <string>

#include "gateway/core/result.h"
#include "gateway/core/routing_header.h"
#include "gateway/core/xml_document.h"

namespace xoev::xoev_head {

// A party (leser/autor) as praefix:kennung. Understands the G2G form
// (<kennung>psw:06414000</kennung>) and the XInneres form
// (<behoerdenkennung><praefix><code>psw</code></praefix><kennung>06414000</kennung>).
std::string party_id(const xmlNode* party);

// Fills id, type, created_at, reader, author, service, standard, version from `head`
// (the nachrichtenkopf element) and the document root. Missing UUID, type or
// reader → missing_routing_header with the line of the head.
Result<RoutingHeader> read_head(const XmlDocument& doc, const xmlNode* head, std::string adapter);

}  // namespace xoev::xoev_head
