"""Builds ``bwlive_rtc.sfu._fanout`` from fanout.c and receive.c with cffi (API mode);
setup.py runs it at install (``cffi_modules``), and ``python bwlive_rtc/sfu/fanout_build.py``
builds it in place for a source tree."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
ffibuilder.cdef("""
    typedef int (*bw_protect_fn)(void *context, void *packet, int *length);
    struct bw_output {
        bw_protect_fn protect;
        void *context;
        int fd;
        int queued;
        unsigned char address[28];
        unsigned int address_length;
        unsigned int payload_type;
        unsigned int offset;
        uint32_t ssrc;
        uint64_t packets;
        uint64_t octets;
        int status;
        int length;
    };
    void bw_patch(unsigned char *packet, int marker, unsigned int payload_type, unsigned int sequence_number,
                  uint32_t timestamp, uint32_t ssrc);
    int bw_fanout(const char *head, int head_size, const char *payload, int payload_size, int stamp_at,
                  uint32_t stamp, int marker, unsigned int sequence_number, uint32_t timestamp, int octets,
                  struct bw_output *outputs, int count, int start, unsigned char *buffer, int capacity);

    typedef int (*bw_unprotect_fn)(void *context, void *packet, int *length);
    enum { BW_MEDIA = 0, BW_OTHER = 1, BW_DROPPED = 2 };
    struct bw_received {
        int kind;
        int length;
        int error;
        int marker;
        unsigned int payload_type;
        unsigned int sequence_number;
        uint32_t timestamp;
        uint32_t ssrc;
        int payload_offset;
        int payload_length;
        unsigned int extension_profile;
        int extension_offset;
        int extension_length;
        unsigned int address_length;
        unsigned char address[28];
    };
    int bw_receive(int fd, bw_unprotect_fn unprotect, void *context, unsigned char *buffer, int slot, int count,
                   struct bw_received *results);
""")
ffibuilder.set_source("bwlive_rtc.sfu._fanout", "".join((HERE / name).read_text() for name in ("fanout.c", "receive.c")),
                      extra_compile_args=["-O2"])

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as build:
        shutil.copy(ffibuilder.compile(tmpdir=build), HERE)
