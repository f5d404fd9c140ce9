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

// An inner star may match nothing: "a*b" covers "ab". A matcher whose star always
// eats one character still passes every test above, so these pin the empty case
// at the start, the middle and the end, alone and beside other stars.
TEST(Glob, InnerStarMatchesNothing) {
  EXPECT_TRUE(glob_match("a*b", "ab"));
  EXPECT_TRUE(glob_match("*a", "a"));
  EXPECT_TRUE(glob_match("a*", "a"));
  EXPECT_TRUE(glob_match("a*b*c", "abc"));
  EXPECT_TRUE(glob_match("psw:*06414000", "psw:06414000"));
  EXPECT_TRUE(glob_match("*.BeteiligungNeu.*", ".BeteiligungNeu."));
  EXPECT_TRUE(glob_match("**", ""));
  EXPECT_FALSE(glob_match("a*b", "a"));
  EXPECT_FALSE(glob_match("a*b", "ba"));
}

// After a star has been tried, a later mismatch must backtrack into it rather than
// fail: "*ab" over "aab" first pairs the star with "" and must then retry with "a".
TEST(Glob, StarBacktracksAfterAPartialLiteralMatch) {
  EXPECT_TRUE(glob_match("*ab", "aab"));
  EXPECT_TRUE(glob_match("a*ab", "aaab"));
  EXPECT_TRUE(glob_match("*?b", "xxb"));
  EXPECT_FALSE(glob_match("*ab", "aba"));
  EXPECT_FALSE(glob_match("?", ""));
}

TEST(Glob, QuestionMarkAndLiteralsDoNotCountAsSpecific) {
  EXPECT_EQ(glob_specificity("xyz:000?"), 7);
  EXPECT_EQ(glob_specificity("a*b?c"), 3);
  EXPECT_EQ(glob_specificity(""), 0);
}
