#include "artifacts/key_format.hpp"

#include <gtest/gtest.h>

namespace wwp::artifacts {
namespace {

const KeyVariables kVars{"my-wf", "team-a", "1234-uid", "my-wf-step-0a1b2c3d"};

TEST(KeyFormat, ArgoDefaultIsWorkflowThenPod) {
  EXPECT_EQ(*output_key("", "", kVars, "out.tgz"), "my-wf/my-wf-step-0a1b2c3d/out.tgz");
}

TEST(KeyFormat, AllVariablesAndSpacesInsideBraces) {
  auto key = output_key(
      "artifacts/{{workflow.namespace}}/{{ workflow.name }}/{{workflow.uid}}/{{pod.name}}", "",
      kVars, "x.tgz");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(*key, "artifacts/team-a/my-wf/1234-uid/my-wf-step-0a1b2c3d/x.tgz");
}

TEST(KeyFormat, SlashesAreNormalised) {
  EXPECT_EQ(*output_key("/a//{{workflow.name}}/", "", kVars, "f"), "a/my-wf/f");
}

TEST(KeyFormat, DeprecatedKeyPrefixPrependsTheDefault) {
  EXPECT_EQ(*output_key("", "prefix/", kVars, "f"), "prefix/my-wf/my-wf-step-0a1b2c3d/f");
}

TEST(KeyFormat, UnknownVariablesAreErrorsNamingThem) {
  auto key = output_key("{{workflow.creationTimestamp.Y}}/{{pod.name}}", "", kVars, "f");
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("workflow.creationTimestamp.Y"), std::string::npos);
  EXPECT_FALSE(output_key("{{workflow.name", "", kVars, "f"));
}

TEST(StepPodName, StablePerStepAndDistinctBetweenSteps) {
  StepContext step{{"wf", "ns", "uid"}, "tmpl", "uid/sha256:abc"};
  const std::string name = step_pod_name(step);
  EXPECT_EQ(name, step_pod_name(step));
  ASSERT_EQ(name.size(), std::string("wf-tmpl-").size() + 8);
  EXPECT_TRUE(name.starts_with("wf-tmpl-"));
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef", 8), std::string::npos) << name;
  StepContext other = step;
  other.step_key = "uid/sha256:def";
  EXPECT_NE(step_pod_name(other), name);
}

}  // namespace
}  // namespace wwp::artifacts
