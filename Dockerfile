# nst in a container: the `nst` program and the feed-forward style networks,
# for painting large collections on many machines (deploy/README.md: a Slurm
# job array, a Kubernetes Indexed Job).
#
#   make nst models                        # build/models/*.nstw: the context's models
#   docker build -t nst .
#   docker build --build-arg MODELS=my-models -t nst .     # another folder of .nstw files
#   docker run --rm -v "$PWD/photos:/data/in:ro" -v "$PWD/painted:/data/out" nst \
#     fast --model /usr/local/share/nst/models/udnie.nstw --input /data/in --output-dir /data/out
#
# For `nst stylize`, put vgg19.nstw (`make weights`) into the models folder
# before building: NST_WEIGHTS points there.
#
# Not built or run where this file was written (that machine has no network,
# and apt-get needs one); the packages are those tools/install-deps.sh installs
# and those `ldd build/nst` names on Debian 12.

# ---- build: the program alone (no tests, no benchmarks) ----
FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config libtbb-dev libxsimd-dev libstb-dev catch2 libcpp-httplib-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads: the host's build folders stay out.
COPY CMakeLists.txt Makefile ./
COPY cmake cmake
COPY src src
COPY tools tools
# Portable code: the SIMD kernels pick the CPU's instruction set at run time,
# so the image runs on any x86-64 node (NST_NATIVE stays off).
RUN make nst BUILD=/build CMAKE_FLAGS="-DNST_BUILD_TESTS=OFF -DNST_BUILD_BENCH=OFF"

# ---- run: the binary, its libraries (cpp-httplib's for `nst serve`), the models ----
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libc6 libstdc++6 libgcc-s1 libtbb12 libcpp-httplib0.11 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/nst /usr/local/bin/nst
ARG MODELS=build/models
COPY ${MODELS}/ /usr/local/share/nst/models/
ENV NST_WEIGHTS=/usr/local/share/nst/models/vgg19.nstw
RUN useradd --system --uid 10001 --no-create-home nst
USER nst
WORKDIR /data
ENTRYPOINT ["nst"]
CMD ["--help"]
