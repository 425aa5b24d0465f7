/* The compiled receive: one burst of a UDP socket's datagrams in one call.
 *
 * recvmmsg reads what is waiting (up to ``count``); each SRTP media datagram (RFC 5761's
 * RTP range: first byte 128-191, second not 192-223) is unprotected in place through the
 * unprotect function and session the caller hands over (pylibsrtp's own libsrtp) and its
 * RTP header read (RFC 3550: CSRCs, extension, padding). Anything else (STUN, DTLS, RTCP,
 * media before SRTP is keyed) is handed back as it came, with its sender's address, for
 * the caller's usual path. Built into bwlive_rtc.sfu._fanout with fanout.c. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define BW_BURST_MAX 64

enum { BW_MEDIA = 0, BW_OTHER = 1, BW_DROPPED = 2 };

typedef int (*bw_unprotect_fn)(void *context, void *packet, int *length);

struct bw_received {
    int kind;              /* BW_MEDIA, BW_OTHER (as received) or BW_DROPPED (did not unprotect or parse) */
    int length;            /* bytes in its slot: unprotected for media */
    int error;             /* BW_DROPPED: SRTP's error, or 0 for a malformed RTP header */
    int marker;
    unsigned int payload_type;
    unsigned int sequence_number;
    uint32_t timestamp;
    uint32_t ssrc;
    int payload_offset;    /* the payload without padding */
    int payload_length;
    unsigned int extension_profile;
    int extension_offset;  /* the header extension's value (after profile and length), 0 if none */
    int extension_length;
    unsigned int address_length;
    unsigned char address[28]; /* struct sockaddr_in or sockaddr_in6 */
};

static uint32_t bw_be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Read the RTP header of ``packet`` (``length`` bytes) into ``out``; 0 if malformed. */
static int bw_parse_rtp(const unsigned char *packet, int length, struct bw_received *out)
{
    if (length < 12 || packet[0] >> 6 != 2)
        return 0;
    int pos = 12 + 4 * (packet[0] & 0x0F);
    if (length < pos)
        return 0;
    out->marker = packet[1] >> 7;
    out->payload_type = packet[1] & 0x7F;
    out->sequence_number = ((unsigned int)packet[2] << 8) | packet[3];
    out->timestamp = bw_be32(packet + 4);
    out->ssrc = bw_be32(packet + 8);
    out->extension_profile = 0;
    out->extension_offset = out->extension_length = 0;
    if (packet[0] & 0x10) {
        if (length < pos + 4)
            return 0;
        int extension_length = 4 * (((int)packet[pos + 2] << 8) | packet[pos + 3]);
        out->extension_profile = ((unsigned int)packet[pos] << 8) | packet[pos + 1];
        pos += 4;
        if (length < pos + extension_length)
            return 0;
        out->extension_offset = pos;
        out->extension_length = extension_length;
        pos += extension_length;
    }
    int padding = 0;
    if (packet[0] & 0x20) {
        padding = packet[length - 1];
        if (!padding || padding > length - pos)
            return 0;
    }
    out->payload_offset = pos;
    out->payload_length = length - pos - padding;
    return 1;
}

/* Read up to ``count`` datagrams from ``fd`` into ``buffer`` (slots of ``slot`` bytes),
 * unprotecting SRTP media when ``context`` is set; returns how many were read (0: none
 * waiting) or -errno. A datagram longer than a slot is dropped. */
int bw_receive(int fd, bw_unprotect_fn unprotect, void *context, unsigned char *buffer, int slot, int count,
               struct bw_received *results)
{
    struct mmsghdr messages[BW_BURST_MAX];
    struct iovec vectors[BW_BURST_MAX];
    if (count > BW_BURST_MAX)
        count = BW_BURST_MAX;
    memset(messages, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = buffer + (size_t)i * (size_t)slot;
        vectors[i].iov_len = (size_t)slot;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = results[i].address;
        messages[i].msg_hdr.msg_namelen = sizeof(results[i].address);
    }
    int read;
    do {
        read = recvmmsg(fd, messages, (unsigned int)count, MSG_DONTWAIT, NULL);
    } while (read < 0 && errno == EINTR);
    if (read < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    for (int i = 0; i < read; i++) {
        struct bw_received *out = &results[i];
        unsigned char *packet = buffer + (size_t)i * (size_t)slot;
        int length = (int)messages[i].msg_len;
        out->address_length = messages[i].msg_hdr.msg_namelen;
        out->length = length;
        out->error = 0;
        if (messages[i].msg_hdr.msg_flags & MSG_TRUNC) {
            out->kind = BW_DROPPED;
            out->error = EMSGSIZE;
            continue;
        }
        if (context == NULL || length == 0 || packet[0] < 128 || packet[0] > 191
                || (length > 1 && packet[1] >= 192 && packet[1] <= 223)) {
            out->kind = BW_OTHER;
            continue;
        }
        if (length < 12) { /* in the RTP range but no header: not worth the unprotect */
            out->kind = BW_DROPPED;
            continue;
        }
        int error = unprotect(context, packet, &length);
        out->length = length;
        if (error) {
            out->kind = BW_DROPPED;
            out->error = error;
            continue;
        }
        out->kind = bw_parse_rtp(packet, length, out) ? BW_MEDIA : BW_DROPPED;
    }
    return read;
}
