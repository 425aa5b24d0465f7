/* The compiled per-viewer fan-out: one source packet's rendered bytes to many outputs.
 *
 * For each output: copy the rendering (a header kept per layout with the packet's
 * abs-send-time put in, and the payload), patch payload type and marker, sequence number,
 * timestamp and SSRC, SRTP-protect in place (through the protect function and session the
 * caller hands over: pylibsrtp's own libsrtp) and send to the output's UDP socket. One
 * call per source packet per header layout; no Python per viewer. Built by cffi
 * (fanout_build.py) into bwlive_rtc.sfu._fanout. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define BW_SRTP_TRAILER 144 /* libsrtp's SRTP_MAX_TRAILER_LEN: room protect() needs after the packet */

typedef int (*bw_protect_fn)(void *context, void *packet, int *length);

struct bw_output {
    bw_protect_fn protect; /* srtp_protect */
    void *context;         /* its srtp_t */
    int fd;                /* the output's UDP socket */
    int queued;            /* 1: hand the protected bytes back (the socket's queue in Python holds some) */
    unsigned char address[28]; /* struct sockaddr_in or sockaddr_in6 */
    unsigned int address_length;
    unsigned int payload_type;
    unsigned int offset;   /* added to the source's sequence number, modulo 2^16 */
    uint32_t ssrc;
    uint64_t packets;      /* sent so far (for RTCP sender reports) */
    uint64_t octets;       /* payload octets sent so far */
    int status;            /* of the last packet: 0, an errno of sendto, or -(SRTP's error) */
    int length;            /* the protected length of the last packet */
};

void bw_patch(unsigned char *packet, int marker, unsigned int payload_type, unsigned int sequence_number,
              uint32_t timestamp, uint32_t ssrc)
{
    packet[1] = (unsigned char)((marker ? 0x80 : 0) | (payload_type & 0x7F));
    packet[2] = (unsigned char)(sequence_number >> 8);
    packet[3] = (unsigned char)sequence_number;
    packet[4] = (unsigned char)(timestamp >> 24);
    packet[5] = (unsigned char)(timestamp >> 16);
    packet[6] = (unsigned char)(timestamp >> 8);
    packet[7] = (unsigned char)timestamp;
    packet[8] = (unsigned char)(ssrc >> 24);
    packet[9] = (unsigned char)(ssrc >> 16);
    packet[10] = (unsigned char)(ssrc >> 8);
    packet[11] = (unsigned char)ssrc;
}

/* Send ``head`` (``head_size`` bytes: a rendering's header) followed by ``payload`` to
 * outputs[start..count-1], the 3 bytes at ``stamp_at`` (if not negative) set to ``stamp``
 * (the abs-send-time); returns the index of the first output whose protected bytes (in
 * ``buffer``, ``length`` long) the caller must send itself (its socket would block, or its
 * queue in Python holds some), or ``count`` when all were handled. */
int bw_fanout(const char *head, int head_size, const char *payload, int payload_size, int stamp_at, uint32_t stamp,
              int marker, unsigned int sequence_number, uint32_t timestamp, int octets, struct bw_output *outputs,
              int count, int start, unsigned char *buffer, int capacity)
{
    int size = head_size + payload_size;
    for (int i = start; i < count; i++) {
        struct bw_output *out = &outputs[i];
        if (head_size < 12 || size + BW_SRTP_TRAILER > capacity || stamp_at + 3 > head_size) {
            out->status = EMSGSIZE;
            continue;
        }
        memcpy(buffer, head, (size_t)head_size);
        memcpy(buffer + head_size, payload, (size_t)payload_size);
        if (stamp_at >= 0) {
            buffer[stamp_at] = (unsigned char)(stamp >> 16);
            buffer[stamp_at + 1] = (unsigned char)(stamp >> 8);
            buffer[stamp_at + 2] = (unsigned char)stamp;
        }
        bw_patch(buffer, marker, out->payload_type, (sequence_number + out->offset) & 0xFFFF, timestamp, out->ssrc);
        int length = size;
        int error = out->protect(out->context, buffer, &length);
        if (error) {
            out->status = -error;
            continue;
        }
        out->packets++;
        out->octets += (uint64_t)octets;
        out->length = length;
        if (out->queued) {
            out->status = EAGAIN;
            return i;
        }
        ssize_t sent;
        do {
            sent = sendto(out->fd, buffer, (size_t)length, 0, (const struct sockaddr *)out->address,
                          (socklen_t)out->address_length);
        } while (sent < 0 && errno == EINTR);
        out->status = sent < 0 ? errno : 0;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
            return i;
    }
    return count;
}
