# WWP_GIT_VERSION: what `wasm-workflows-plugin version` prints. From `git describe --tags --always
# --dirty` at configure time (a tag such as v0.2.0, or v0.2.0-3-gabc1234 after it); without a tag,
# the project version plus the commit (0.1.0-gabc1234); without git (a source archive), the
# project version alone.
set(WWP_GIT_VERSION "${PROJECT_VERSION}")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(
    COMMAND "${GIT_EXECUTABLE}" describe --tags --always --dirty
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    OUTPUT_VARIABLE git_describe
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE git_result
    ERROR_QUIET)
  if(git_result EQUAL 0 AND NOT git_describe STREQUAL "")
    if(git_describe MATCHES "^[0-9a-f]+(-dirty)?$")
      # No tag reachable: --always printed the abbreviated commit only.
      set(WWP_GIT_VERSION "${PROJECT_VERSION}-g${git_describe}")
    else()
      set(WWP_GIT_VERSION "${git_describe}")
    endif()
  endif()
endif()
message(STATUS "wasm-workflows-plugin version ${WWP_GIT_VERSION}")
