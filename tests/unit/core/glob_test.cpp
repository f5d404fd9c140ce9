#include "gateway/core/glob.h"

#include <gtest/gtest.h>

using xoev::glob_match;
using xoev::glob_specificity;

TEST(Glob, StarMatchesAnySuffix) {
  EXPECT_TRUE(glob_match("psw:06414*", "psw:06414000"));
  EXPECT_FALSE(glob_match("psw:06414*", "psw:06413000"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything"));
}

TEST(Glob, QuestionMarkIsOneCharacter) {
  EXPECT_TRUE(glob_match("xyz:000?", "xyz:0002"));
  EXPECT_FALSE(glob_match("xyz:000?", "xyz:00022"));
}

TEST(Glob, InnerStarsBacktrack) {
  EXPECT_TRUE(glob_match("*.Beteiligung*.04??", "planung2Beteiligung.BeteiligungNeu.0401"));
  EXPECT_FALSE(glob_match("a*b*c", "aXbY"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYc"));
}

TEST(Glob, SpecificityCountsLiterals) {
  EXPECT_GT(glob_specificity("psw:06414*"), glob_specificity("psw:*"));
  EXPECT_EQ(glob_specificity("*"), 0);
}
