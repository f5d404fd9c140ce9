// A standard added by configuration routes a message no built-in adapter knows.
#include "adapters/inbound/configured/configured_adapter.h"

#include <gtest/gtest.h>

#include <thread>

#include "adapters/inbound/xoev_g2g/xoev_g2g_adapter.h"
#include "adapters/inbound/xinneres/xinneres_adapter.h"
#include "adapters/inbound/xrechnung/xrechnung_adapter.h"
#include "gateway/route/router.h"
#include "gateway/schema/schema_catalog.h"

using namespace xoev;

namespace {

// A made-up standard "XFischerei" (fishing licences): own namespace, own head layout.
constexpr const char* kFishingLicence = R"(<?xml version="1.0" encoding="UTF-8"?>
<fi:antrag.fischereischein.0101 xmlns:fi="urn:example:xfischerei:2" version="2.0">
  <fi:kopf>
    <fi:vorgangsnummer>  7d7c1d2e-5b1a-4f59-9a3e-0c8f5e0a1b22 </fi:vorgangsnummer>
    <fi:art code="0101">Antrag Fischereischein</fi:art>
    <fi:an><fi:behoerde praefix="fis">09162000</fi:behoerde></fi:an>
    <fi:von><fi:behoerde praefix="ozg">online-dienst-7</fi:behoerde></fi:von>
  </fi:kopf>
  <fi:inhalt><fi:name>Petra Huber</fi:name></fi:inhalt>
</fi:antrag.fischereischein.0101>
)";

StandardSection fishing_standard() {
  StandardSection s;
  s.name = "XFischerei";
  s.version = "2.0";
  s.root_namespace = "urn:example:xfischerei:2";
  s.root_element = "antrag.*";
  s.namespaces = {{"f", "urn:example:xfischerei:2"}};
  s.id_xpath = "/*/f:kopf/f:vorgangsnummer";
  s.type_xpath = "string(/*/f:kopf/f:art/@code)";
  s.reader_xpath = "concat(/*/f:kopf/f:an/f:behoerde/@praefix, ':', /*/f:kopf/f:an/f:behoerde)";
  s.author_xpath = "concat(//f:von/f:behoerde/@praefix, ':', //f:von/f:behoerde)";
  s.where = {"gateway.yaml", 42, 5};
  return s;
}

XmlDocument parse(const std::string& xml) {
  auto doc = XmlDocument::parse(xml);
  EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.problem().detail);
  return std::move(doc).value();
}

}  // namespace

TEST(ConfiguredAdapter, RoutesADocumentTheBuiltInsDoNotKnow) {
  const XmlDocument doc = parse(kFishingLicence);

  // No built-in adapter and no shipped schema recognises it.
  for (const auto& builtin : {make_xoev_g2g_adapter(), make_xinneres_adapter(), make_xrechnung_adapter()})
    EXPECT_FALSE(builtin->detect(doc)) << builtin->name();
  auto catalog = SchemaCatalog::load(XOEV_SOURCE_DIR "/schemas/catalog.yaml");
  ASSERT_TRUE(catalog.ok());
  EXPECT_EQ((*catalog)->find(doc), nullptr);

  auto adapter = make_configured_adapter(fishing_standard());
  ASSERT_TRUE(adapter.ok()) << adapter.problem().detail;
  ASSERT_TRUE((*adapter)->detect(doc));
  auto header = (*adapter)->extract(doc);
  ASSERT_TRUE(header.ok()) << header.problem().detail;
  EXPECT_EQ(header->message_id, "7d7c1d2e-5b1a-4f59-9a3e-0c8f5e0a1b22");  // trimmed
  EXPECT_EQ(header->message_type.code, "0101");
  EXPECT_EQ(header->reader, "fis:09162000");
  EXPECT_EQ(header->author, "ozg:online-dienst-7");
  EXPECT_EQ(header->standard, "XFischerei");
  EXPECT_EQ(header->version, "2.0");
  EXPECT_EQ((*adapter)->name(), "configured:XFischerei");

  // And the router sends it where the config says.
  Config config;
  DestinationSection fishery;
  fishery.id = "fischereiamt-muenchen";
  fishery.topic = "xoev.fischerei.09162000";
  DestinationSection other;
  other.id = "somewhere-else";
  other.topic = "xoev.other";
  config.destinations = {fishery, other};
  RouteSection by_reader;
  by_reader.name = "fischerei-muenchen";
  by_reader.match.standard = "XFischerei";
  by_reader.match.reader = "fis:09162*";
  by_reader.destination = fishery.id;
  RouteSection catch_all;
  catch_all.name = "other";
  catch_all.match.reader = "xyz:*";
  catch_all.destination = other.id;
  config.routes = {by_reader, catch_all};
  Router router(config);
  auto decision = router.route(*header);
  ASSERT_TRUE(decision.ok()) << decision.problem().detail;
  ASSERT_NE(decision->destination, nullptr);
  EXPECT_EQ(decision->destination->id, "fischereiamt-muenchen");
}

TEST(ConfiguredAdapter, DetectsByNamespaceRootAndVersion) {
  auto adapter = make_configured_adapter(fishing_standard());
  ASSERT_TRUE(adapter.ok());
  std::string other_version = kFishingLicence;
  other_version.replace(other_version.find("version=\"2.0\""), 13, "version=\"1.0\"");
  EXPECT_FALSE((*adapter)->detect(parse(other_version)));
  std::string other_root = kFishingLicence;
  for (size_t p; (p = other_root.find("antrag.fischereischein")) != std::string::npos;)
    other_root.replace(p, 22, "bescheid.fischereisch");
  EXPECT_FALSE((*adapter)->detect(parse(other_root)));
  EXPECT_FALSE((*adapter)->detect(parse("<antrag.x xmlns=\"urn:example:other\" version=\"2.0\"/>")));
}

TEST(ConfiguredAdapter, XPathSelectingNothingIsMissingRoutingHeader) {
  auto adapter = make_configured_adapter(fishing_standard());
  ASSERT_TRUE(adapter.ok());
  std::string no_reader = kFishingLicence;
  const auto from = no_reader.find("<fi:an>");
  const auto to = no_reader.find("</fi:an>") + 8;
  no_reader.erase(from, to - from);
  // concat() of nothing is ":"; a plain path is the honest way, so test that too.
  StandardSection s = fishing_standard();
  s.reader_xpath = "/*/f:kopf/f:an/f:behoerde";
  auto plain = make_configured_adapter(s);
  ASSERT_TRUE(plain.ok());
  auto header = (*plain)->extract(parse(no_reader));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.problem().kind, ProblemKind::missing_routing_header);
  EXPECT_NE(header.problem().detail.find("fields.reader"), std::string::npos) << header.problem().detail;
  EXPECT_NE(header.problem().detail.find(s.reader_xpath), std::string::npos) << header.problem().detail;

  // A missing author is allowed: it stays empty.
  std::string no_author = kFishingLicence;
  const auto a = no_author.find("<fi:von>");
  no_author.erase(a, no_author.find("</fi:von>") + 9 - a);
  s.author_xpath = "//f:von/f:behoerde";
  auto with_author = make_configured_adapter(s);
  ASSERT_TRUE(with_author.ok());
  auto h = (*with_author)->extract(parse(no_author));
  ASSERT_TRUE(h.ok()) << h.problem().detail;
  EXPECT_EQ(h->author, "");
}

TEST(ConfiguredAdapter, CheckNamesFieldAndReason) {
  StandardSection broken = fishing_standard();
  broken.type_xpath = "/*/f:kopf/f:art[@code=";
  auto status = check_standard_section(broken);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.problem().kind, ProblemKind::config_invalid);
  EXPECT_NE(status.problem().detail.find("fields.type"), std::string::npos) << status.problem().detail;
  EXPECT_NE(status.problem().detail.find("XFischerei"), std::string::npos);
  ASSERT_TRUE(status.problem().location.has_value());
  EXPECT_EQ(status.problem().location->file, "gateway.yaml");
  EXPECT_EQ(status.problem().location->line, 42);

  StandardSection undeclared = fishing_standard();
  undeclared.reader_xpath = "/*/g:kopf/g:an";
  status = check_standard_section(undeclared);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.problem().detail.find("fields.reader"), std::string::npos) << status.problem().detail;
  EXPECT_NE(status.problem().detail.find("namespaces"), std::string::npos) << status.problem().detail;

  StandardSection no_reader = fishing_standard();
  no_reader.reader_xpath = "";
  status = check_standard_section(no_reader);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.problem().detail.find("fields.reader"), std::string::npos);

  EXPECT_TRUE(check_standard_section(fishing_standard()).ok());
  EXPECT_FALSE(make_configured_adapter(broken).ok());
}

TEST(ConfiguredAdapter, SharedAcrossThreads) {
  auto adapter = make_configured_adapter(fishing_standard());
  ASSERT_TRUE(adapter.ok());
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto doc = XmlDocument::parse(kFishingLicence);
        if (!doc) continue;
        auto h = (*adapter)->extract(*doc);
        if (h && h->reader == "fis:09162000") ++good;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 800);
}
