#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/inbound/xinneres/xinneres_adapter.h"
#include "adapters/inbound/xoev_g2g/xoev_g2g_adapter.h"
#include "tests/support/files.h"

using namespace xoev;
namespace fs = std::filesystem;

namespace {

const fs::path kTestdata = XOEV_TESTDATA_DIR;
}  // namespace

TEST(XoevG2g, QualifiedHeadFromXBeteiligung) {
  auto doc = XmlDocument::parse(xoev::test::read_file(kTestdata / "xbeteiligung/tests/res/example402FromCockpit.xml"));
  ASSERT_TRUE(doc.ok());
  auto adapter = make_xoev_g2g_adapter();
  ASSERT_TRUE(adapter->detect(*doc));
  auto h = adapter->extract(*doc);
  ASSERT_TRUE(h.ok()) << h.problem().one_line();
  EXPECT_EQ(h->message_id, "f4d3b213-1ce1-4ec5-a7b1-763ca250dcf1");
  EXPECT_EQ(h->message_type.code, "0401");
  EXPECT_TRUE(h->message_type.name.empty());  // free text: a label, never routed on
  EXPECT_EQ(h->message_type.label, "planung2Beteiligung.BeteiligungNeu.0401");
  EXPECT_EQ(h->message_type.list_uri, "urn:xoev-de:xleitstelle:codeliste:xbeteiligung-nachrichten");
  EXPECT_EQ(h->reader, "xyz:0002");
  EXPECT_EQ(h->standard, "XBeteiligung");
  EXPECT_EQ(h->version, "1.2");
  EXPECT_EQ(h->created_at, "2024-05-24T11:27:50.141+02:00");
}

TEST(XoevG2g, UnqualifiedHeadFromXWasser) {
  auto doc = XmlDocument::parse(xoev::test::read_file(kTestdata / "xwasser/tests/quality_report_minimal.xml"));
  ASSERT_TRUE(doc.ok());
  auto h = make_xoev_g2g_adapter()->extract(*doc);
  ASSERT_TRUE(h.ok()) << h.problem().one_line();
  EXPECT_EQ(h->message_id, "693c64d6-456f-4d14-abe7-fe9681c74aae");
  EXPECT_EQ(h->message_type.code, "2010");
  EXPECT_EQ(h->reader, "psw:11113110");
  EXPECT_EQ(h->author, "psw:01003110");
  EXPECT_EQ(h->service, "s");
  EXPECT_EQ(h->standard, "XWasser");
  EXPECT_EQ(h->version, "1.0.0");
}

// Some XWasser test results carry an empty <kennung/>: those must be refused as
// missing routing header (there is nobody to deliver to), all others must route.
TEST(XoevG2g, EveryRealSampleHasAReaderAndUuidOrIsRefused) {
  int seen = 0, refused = 0;
  for (const char* dir : {"xbeteiligung/tests/res", "xbeteiligung/tests/res/xmlv14", "xwasser/tests"}) {
    for (const auto& e : fs::directory_iterator(kTestdata / dir)) {
      if (e.path().extension() != ".xml") continue;
      auto doc = XmlDocument::parse(xoev::test::read_file(e.path()));
      ASSERT_TRUE(doc.ok()) << e.path();
      auto h = make_xoev_g2g_adapter()->extract(*doc);
      if (!h.ok()) {
        EXPECT_EQ(h.problem().kind, ProblemKind::missing_routing_header) << e.path();
        EXPECT_NE(h.problem().detail.find("leser"), std::string::npos) << e.path();
        ++refused;
        continue;
      }
      EXPECT_EQ(h->message_id.size(), 36u) << e.path();
      EXPECT_NE(h->reader.find(':'), std::string::npos) << e.path();
      ++seen;
    }
  }
  EXPECT_GE(seen, 15);
  EXPECT_GE(refused, 1);
  EXPECT_EQ(seen + refused, 21);
}

TEST(XoevG2g, HeadInForeignNamespaceIsNotDetected) {
  auto doc = XmlDocument::parse(R"(<r xmlns:o="urn:other"><o:nachrichtenkopf.g2g/></r>)");
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(make_xoev_g2g_adapter()->detect(*doc));
}

TEST(XoevG2g, MissingUuidIsMissingRoutingHeaderWithLine) {
  auto doc = XmlDocument::parse(
      "<r>\n<nachrichtenkopf.g2g>\n<identifikation.nachricht>\n<nachrichtentyp><code>1</code></nachrichtentyp>\n"
      "</identifikation.nachricht>\n<leser><kennung>psw:1</kennung></leser>\n</nachrichtenkopf.g2g>\n</r>");
  ASSERT_TRUE(doc.ok());
  auto h = make_xoev_g2g_adapter()->extract(*doc);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.problem().kind, ProblemKind::missing_routing_header);
  EXPECT_NE(h.problem().detail.find("nachrichtenUUID"), std::string::npos);
  EXPECT_EQ(h.problem().location->line, 3);
}

TEST(Xinneres, BehoerdenkennungIsPraefixColonKennung) {
  const char* xml = R"(<xmeld:datenuebermittlung.anmeldung.1234 xmlns:xmeld="http://www.osci.de/xmeld2511"
      standard="XMeld" version="25.11">
  <nachrichtenkopf>
    <identifikation.nachricht>
      <nachrichtenUUID>6f1c6c0e-2c32-4c4e-9a51-1c0d1a3b9e01</nachrichtenUUID>
      <nachrichtentyp listURI="urn:de:xmeld:nachrichten"><code>1234</code></nachrichtentyp>
      <erstellungszeitpunkt>2026-11-28T10:00:00Z</erstellungszeitpunkt>
    </identifikation.nachricht>
    <leser><behoerdenkennung><praefix><code>psw</code></praefix><kennung>06414000</kennung></behoerdenkennung></leser>
    <autor><behoerdenkennung><praefix>psw</praefix><kennung>01003110</kennung></behoerdenkennung></autor>
  </nachrichtenkopf>
</xmeld:datenuebermittlung.anmeldung.1234>)";
  auto doc = XmlDocument::parse(xml);
  ASSERT_TRUE(doc.ok());
  auto adapter = make_xinneres_adapter();
  ASSERT_TRUE(adapter->detect(*doc));
  EXPECT_FALSE(make_xoev_g2g_adapter()->detect(*doc));
  auto h = adapter->extract(*doc);
  ASSERT_TRUE(h.ok()) << h.problem().one_line();
  EXPECT_EQ(h->reader, "psw:06414000");
  EXPECT_EQ(h->author, "psw:01003110");
  EXPECT_EQ(h->message_type.code, "1234");
  EXPECT_EQ(h->standard, "XMeld");
}
