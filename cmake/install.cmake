# `cmake --install`: the nst program, the library nst::nst with its headers and
# a CMake package (find_package(nst); examples/ builds against it), and the
# models and weights made in the build tree (`make models`, `make weights`) when
# there. `cpack -G DEB` (in the build folder) makes a Debian package of it all.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Headers, with the source tree's layout under include/nst. Of the kernels
# (src/nn/kernels: internal, many include xsimd) only the four the other
# headers include: the thread count, the SIMD level, and the kernel entry
# points that nn/conv2d.hpp and nn/pool.hpp declare against.
file(GLOB_RECURSE NST_PUBLIC_HEADERS RELATIVE ${PROJECT_SOURCE_DIR}/src CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/src/*.hpp)
list(FILTER NST_PUBLIC_HEADERS EXCLUDE REGEX "^nn/kernels/")
list(APPEND NST_PUBLIC_HEADERS nn/kernels/parallel.hpp nn/kernels/simd.hpp nn/kernels/conv_gemm.hpp
     nn/kernels/pool.hpp)
foreach(h IN LISTS NST_PUBLIC_HEADERS)
  get_filename_component(dir ${h} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/src/${h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nst/${dir}
          COMPONENT dev)
endforeach()

set_target_properties(nstlib PROPERTIES EXPORT_NAME nst)
install(TARGETS nstlib EXPORT nstTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(TARGETS nst RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
install(EXPORT nstTargets NAMESPACE nst:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nst COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nstConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/nstConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nst)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nstConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nstConfig.cmake ${PROJECT_BINARY_DIR}/nstConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nst COMPONENT dev)

# Data made by `make weights` / `make models`; the installed nst finds the
# weights in ../share/nst beside its bin folder (tools/common.cpp).
install(FILES ${PROJECT_BINARY_DIR}/vgg19.nstw DESTINATION ${CMAKE_INSTALL_DATADIR}/nst
        COMPONENT cli OPTIONAL)
install(DIRECTORY ${PROJECT_BINARY_DIR}/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/nst/models
        COMPONENT cli OPTIONAL FILES_MATCHING PATTERN "*.nstw")

set(CPACK_PACKAGE_NAME nst)
set(CPACK_PACKAGE_VENDOR "nst")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Neural style transfer on CPUs: the nst program, its library and models")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "nst maintainers <nst@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# What `ldd build/nst` names, as Debian 12's packages (dpkg-shlibdeps would need
# dpkg-dev on the building machine).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libstdc++6, libgcc-s1, libtbb12")
if(TARGET nst_serve AND NST_HTTPLIB_PC_FOUND)  # nst serve on Debian's shared cpp-httplib
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libcpp-httplib0.11")
endif()
set(CPACK_PACKAGE_INSTALL_DIRECTORY nst)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)

# The install as a user of the library sees it (tools/check-install.sh): not
# under the sanitizers, whose instrumented library a plain program cannot link.
if(NST_BUILD_TESTS AND NOT NST_SANITIZE AND NOT NST_FUZZ)
  add_test(NAME install:find_package-and-example
           COMMAND bash ${PROJECT_SOURCE_DIR}/tools/check-install.sh ${PROJECT_BINARY_DIR}
                   ${PROJECT_BINARY_DIR}/check-install)
endif()
