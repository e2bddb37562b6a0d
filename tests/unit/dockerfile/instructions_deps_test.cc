// Stage references and the checks dockerfile2llb/convert.go makes on them:
// COPY --from / RUN --mount from= resolution, cycles, later stages.
#include "dockerfile/instructions_deps.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dockerfile/parser.h"

namespace strata::dockerfile {
namespace {

ParsedInstructions MustParse(std::string_view text) {
  auto ast = Parse(text, ParseOptions{});
  EXPECT_TRUE(ast.has_value()) << ast.error().ToString();
  if (!ast) return {};
  auto parsed = ParseInstructions(*ast);
  EXPECT_TRUE(parsed.has_value()) << parsed.error().ToString();
  return parsed ? std::move(*parsed) : ParsedInstructions{};
}

base::Result<StageGraph> Graph(const ParsedInstructions& df) {
  return BuildStageGraph(df, '\\');
}

std::string GraphError(std::string_view text) {
  auto graph = Graph(MustParse(text));
  return graph ? "<no error>" : graph.error().ToString();
}

TEST(StageGraphTest, ResolvesStagesAndImages) {
  ParsedInstructions df = MustParse(
      "FROM alpine AS base\n"
      "FROM base AS build\n"
      "COPY --from=BASE a b\n"
      "RUN --mount=from=golang,target=/go --mount=type=cache,target=/c make\n"
      "FROM scratch\n"
      "COPY --from=1 a b\n"
      "COPY --from=nginx:latest a b\n"
      "COPY a b\n");
  auto graph = Graph(df);
  ASSERT_TRUE(graph.has_value()) << graph.error().ToString();
  std::vector<StageGraphNode> want_nodes = {
      {0, ""},        {1, ""},         {2, ""},
      {-1, "golang"}, {-1, "scratch"}, {-1, "nginx:latest"}};
  EXPECT_EQ(graph->nodes, want_nodes);
  EXPECT_EQ(graph->base, (std::vector<int>{-1, 0, -1}));
  using Sources = std::vector<std::vector<int>>;
  EXPECT_EQ(graph->sources[0], Sources{});
  EXPECT_EQ(graph->sources[1], (Sources{{0}, {3, 4}}));
  EXPECT_EQ(graph->sources[2], (Sources{{1}, {5}, {}}));
  EXPECT_EQ(ReachableStages(*graph, 2), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(ReachableStages(*graph, 0),
            (std::vector<bool>{true, false, false}));
}

TEST(StageGraphTest, FromUsesExactLatestEarlierName) {
  ParsedInstructions df = MustParse(
      "FROM a AS x\n"
      "FROM b AS x\n"
      "FROM x\n"
      "COPY --from=X a b\n"
      "FROM X\n"
      "FROM c AS x\n");
  auto graph = Graph(df);
  ASSERT_TRUE(graph.has_value());
  // FROM x: the latest earlier "x"; FROM X: no stage (names are lower-cased,
  // base names are not), so an image.
  EXPECT_EQ(graph->base, (std::vector<int>{-1, -1, 1, -1, -1}));
  // COPY --from finds the last stage of that name, even a later one.
  EXPECT_EQ(graph->sources[2][0], (std::vector<int>{4}));
  EXPECT_EQ(df.warnings.size(), 2u);  // DuplicateStageName twice
}

TEST(StageGraphTest, IndexCountsImageNodes) {
  // BuildKit's state list grows while it resolves: the cache mount adds a
  // "scratch" state, which index 1 then names.
  ParsedInstructions df = MustParse(
      "FROM alpine\n"
      "RUN --mount=type=cache,target=/c true\n"
      "COPY --from=1 a b\n");
  auto graph = Graph(df);
  ASSERT_TRUE(graph.has_value()) << graph.error().ToString();
  EXPECT_EQ(graph->sources[0][1], (std::vector<int>{1}));
  EXPECT_EQ(graph->nodes[1], (StageGraphNode{-1, "scratch"}));
}

TEST(StageGraphTest, Errors) {
  EXPECT_EQ(GraphError("FROM a\nCOPY --from=$X a b"),
            "Dockerfile:2: variable expansion is not supported for --from, "
            "define a new stage with FROM using ARG from global scope as a "
            "workaround");
  EXPECT_EQ(GraphError("FROM a\nFROM b\nCOPY --from=7 a b"),
            "Dockerfile:3: invalid stage index 7");
  EXPECT_EQ(GraphError("FROM a\nFROM b\nCOPY --from=-1 a b"),
            "Dockerfile:3: invalid stage index -1");
  EXPECT_EQ(GraphError("FROM a AS x\nRUN true\nCOPY --from=x a b"),
            "Dockerfile:3: circular dependency detected on stage: x");
  EXPECT_EQ(GraphError("FROM a\nCOPY --from=0 a b"),
            "Dockerfile:2: circular dependency detected on stage: stage-0");
  EXPECT_EQ(GraphError("FROM a AS x\n"
                       "COPY --from=y a b\n"
                       "FROM b AS y\n"
                       "RUN --mount=from=x,target=/m true\n"),
            "Dockerfile:2: circular dependency detected on stage: x");
}

TEST(StageGraphTest, LaterStageOnlyFailsWhenBuilt) {
  ParsedInstructions df = MustParse(
      "FROM a AS x\n"
      "COPY --from=y a b\n"
      "FROM b AS y\n"
      "RUN true\n");
  auto graph = Graph(df);
  ASSERT_TRUE(graph.has_value()) << graph.error().ToString();
  // Target y (the default, last stage) does not need x: no error.
  EXPECT_TRUE(
      CheckStageOrder(df, *graph, ReachableStages(*graph, 1)).has_value());
  auto err = CheckStageOrder(df, *graph, ReachableStages(*graph, 0));
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(
      err.error().ToString(),
      "Dockerfile:2: cannot copy from stage \"y\", it needs to be defined "
      "before current stage \"x\"");
}

TEST(StageGraphTest, LaterStageMount) {
  ParsedInstructions df = MustParse(
      "FROM a\n"
      "RUN --mount=type=bind,from=later,target=/m true\n"
      "FROM b AS later\n");
  auto graph = Graph(df);
  ASSERT_TRUE(graph.has_value());
  auto err = CheckStageOrder(df, *graph, {true, true});
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().ToString(),
            "Dockerfile:2: cannot mount from stage \"later\" to \"/m\", stage "
            "needs to be defined before current command");
}

TEST(StageGraphTest, DisplayNames) {
  ParsedInstructions df = MustParse("FROM a\nFROM b AS named\n");
  EXPECT_EQ(StageDisplayName(df, 0), "stage-0");
  EXPECT_EQ(StageDisplayName(df, 1), "named");
}

}  // namespace
}  // namespace strata::dockerfile
