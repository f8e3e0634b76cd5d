/* dextbench-bridge (macOS): the IOKit transport. Everything IOKit lives in this file; the frame
 * and call rules are in bridge_core.c. Build line in README.md.
 *   match:      IOServiceGetMatchingServices(IORegistryEntryIDMatching(--registry-id), else
 *               IOServiceMatching("IOService"), + IOPropertyMatch dict); xnu's matchInternal checks
 *               the registry entry id and the property match each, so both must hold. The choice
 *               among the results is bridge_pick_service (portable, tested through the stand-in).
 *   open:       IOServiceOpen(service, mach_task_self(), --type, &connect)
 *   calls:      IOConnectCallStructMethod (selectors CALL / FETCH)
 *   doorbell:   IOConnectCallAsyncStructMethod(SUBSCRIBE) on an IONotificationPort
 *   terminate:  IOServiceAddInterestNotification(kIOGeneralInterest) -> kIOMessageServiceIsTerminated
 * Notification callbacks run on a private dispatch queue and wake the stdio loop via a pipe. */
#include <CoreFoundation/CoreFoundation.h>
#include <IOKit/IOKitLib.h>
#include <IOKit/IOMessage.h>
#include <dispatch/dispatch.h>
#include <errno.h>
#include <fcntl.h>
#include <mach/mach.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"

typedef struct iokit {
    io_service_t service;
    io_connect_t connect;
    IONotificationPortRef port;
    io_object_t interest;
    dispatch_queue_t queue;
    int wake[2];
    atomic_uint notes;
    atomic_int io_return;
} iokit_t;

static iokit_t iokit;

static void wake(iokit_t *k, unsigned note, IOReturn io_return) {
    char byte = 1;
    if (io_return != kIOReturnSuccess) atomic_store(&k->io_return, (int)io_return);
    atomic_fetch_or(&k->notes, note);
    (void)write(k->wake[1], &byte, 1); /* non-blocking; a full pipe already wakes the loop */
}

static void on_interest(void *refcon, io_service_t service, uint32_t type, void *arg) {
    (void)service;
    (void)arg;
    if (type == kIOMessageServiceIsTerminated) wake(refcon, BRIDGE_NOTE_TERMINATED, kIOReturnSuccess);
}

/* args = [pending_count, last_seq, dropped_total]; the bridge polls regardless of the values. */
static void on_doorbell(void *refcon, IOReturn result, void **args, UInt32 n_args) {
    (void)args;
    (void)n_args;
    if (result == kIOReturnAborted || result == kIOReturnNotAttached) wake(refcon, BRIDGE_NOTE_TERMINATED, result);
    else wake(refcon, BRIDGE_NOTE_DOORBELL, kIOReturnSuccess);
}

/* Errors that mean the connection is gone (the dext died or the service terminated). */
static int is_dead(kern_return_t kr) {
    return kr == MACH_SEND_INVALID_DEST || kr == kIOReturnNotAttached || kr == kIOReturnAborted ||
           kr == kIOReturnNoDevice || kr == kIOReturnOffline || kr == kIOReturnNotResponding;
}

static int call_struct(void *ctx, uint32_t selector, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len,
                       int32_t *io_return) {
    iokit_t *k = ctx;
    kern_return_t kr = IOConnectCallStructMethod(k->connect, selector, in, in_len, out, out_len);
    *io_return = (int32_t)kr;
    if (kr == KERN_SUCCESS) return BRIDGE_CALL_OK;
    if (is_dead(kr) || (atomic_load(&k->notes) & BRIDGE_NOTE_TERMINATED)) return BRIDGE_CALL_TERMINATED;
    return BRIDGE_CALL_FAILED;
}

static unsigned take_notes(void *ctx, int32_t *io_return) {
    iokit_t *k = ctx;
    char drain[64];
    while (read(k->wake[0], drain, sizeof drain) > 0) {
    }
    *io_return = atomic_load(&k->io_return);
    return atomic_exchange(&k->notes, 0u);
}

/* A string stays a string (IOUserClass=0123); only KEY:int=N is a number. */
static CFTypeRef match_value(const bridge_match_t *m) {
    if (m->is_number) {
        long long n = (long long)m->number;
        return CFNumberCreate(kCFAllocatorDefault, kCFNumberLongLongType, &n);
    }
    return CFStringCreateWithCString(kCFAllocatorDefault, m->value, kCFStringEncodingUTF8);
}

static CFMutableDictionaryRef matching_dict(const bridge_args_t *args) {
    CFMutableDictionaryRef match, props;
    int i;
    match = args->has_registry_id ? IORegistryEntryIDMatching(args->registry_id) : IOServiceMatching("IOService");
    if (args->n_match == 0 || match == NULL) return match;
    props = CFDictionaryCreateMutable(kCFAllocatorDefault, 0, &kCFTypeDictionaryKeyCallBacks,
                                      &kCFTypeDictionaryValueCallBacks);
    for (i = 0; i < args->n_match; i++) {
        CFStringRef key = CFStringCreateWithCString(kCFAllocatorDefault, args->match[i].key, kCFStringEncodingUTF8);
        CFTypeRef value = match_value(&args->match[i]);
        CFDictionarySetValue(props, key, value);
        CFRelease(key);
        CFRelease(value);
    }
    CFDictionarySetValue(match, CFSTR(kIOPropertyMatchKey), props);
    CFRelease(props);
    return match;
}

/* The locationID of the USB device the service sits on: the first one up its providers. */
static int location_of(io_service_t s, uint64_t *location) {
    CFTypeRef v = IORegistryEntrySearchCFProperty(s, kIOServicePlane, CFSTR("locationID"), kCFAllocatorDefault,
                                                  kIORegistryIterateRecursively | kIORegistryIterateParents);
    long long n = 0;
    int ok = v && CFGetTypeID(v) == CFNumberGetTypeID() && CFNumberGetValue(v, kCFNumberLongLongType, &n);
    if (v) CFRelease(v);
    *location = (uint64_t)n;
    return ok;
}

#define MAX_FOUND 16

/* Finds exactly one service; on failure writes why into message and returns IO_OBJECT_NULL. */
static io_service_t find_service(const bridge_args_t *args, char *message, size_t cap) {
    io_iterator_t it = IO_OBJECT_NULL;
    io_service_t services[MAX_FOUND], s, picked = IO_OBJECT_NULL;
    bridge_service_t found[MAX_FOUND];
    int n = 0, i, pick;
    /* MACH_PORT_NULL = the default main port (kIOMasterPortDefault / kIOMainPortDefault). */
    kern_return_t kr = IOServiceGetMatchingServices(MACH_PORT_NULL, matching_dict(args), &it);
    if (kr != KERN_SUCCESS) {
        snprintf(message, cap, "IOServiceGetMatchingServices failed: 0x%08x", kr);
        return IO_OBJECT_NULL;
    }
    while ((s = IOIteratorNext(it)) != IO_OBJECT_NULL) {
        if (n == MAX_FOUND) { /* enough to refuse; the refusal counts and lists the first MAX_FOUND */
            IOObjectRelease(s);
            continue;
        }
        found[n].registry_id = 0;
        IORegistryEntryGetRegistryEntryID(s, &found[n].registry_id);
        found[n].has_location = location_of(s, &found[n].location_id);
        services[n++] = s;
    }
    IOObjectRelease(it);
    pick = bridge_pick_service(args, found, n, message, cap);
    for (i = 0; i < n; i++) {
        if (i == pick) picked = services[i];
        else IOObjectRelease(services[i]);
    }
    return picked;
}

static void read_user_class(io_service_t s, char *out, size_t cap) {
    CFTypeRef v = IORegistryEntryCreateCFProperty(s, CFSTR("IOUserClass"), kCFAllocatorDefault, 0);
    out[0] = '\0';
    if (v && CFGetTypeID(v) == CFStringGetTypeID()) CFStringGetCString(v, out, (CFIndex)cap, kCFStringEncodingUTF8);
    if (v) CFRelease(v);
}

int main(int argc, char **argv) {
    static const char usage[] = "dextbench-bridge --match KEY=VALUE... [--registry-id N] [--type N]";
    bridge_args_t args;
    bridge_transport_t t;
    char message[512];
    uint64_t id = 0, ref[kIOAsyncCalloutCount];
    kern_return_t kr;
    int rc = bridge_parse_args(argc, argv, &args, usage, NULL, NULL);
    if (rc != 0) return rc;

    iokit.service = find_service(&args, message, sizeof message);
    if (iokit.service == IO_OBJECT_NULL)
        return bridge_report_open_failed(STDOUT_FILENO, STDERR_FILENO, "iokit", 0, message, BRIDGE_EXIT_UNAVAILABLE);
    kr = IOServiceOpen(iokit.service, mach_task_self(), args.connect_type, &iokit.connect);
    if (kr != KERN_SUCCESS) {
        snprintf(message, sizeof message, "IOServiceOpen failed: 0x%08x%s", kr,
                 kr == kIOReturnNotPermitted ? " (userclient-access entitlement?)" : "");
        return bridge_report_open_failed(STDOUT_FILENO, STDERR_FILENO, "iokit", (int32_t)kr, message,
                                         kr == kIOReturnNotPermitted ? BRIDGE_EXIT_NOPERM : BRIDGE_EXIT_UNAVAILABLE);
    }
    if (pipe(iokit.wake) != 0 || fcntl(iokit.wake[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(iokit.wake[1], F_SETFL, O_NONBLOCK) != 0)
        return BRIDGE_EXIT_SOFTWARE;

    iokit.port = IONotificationPortCreate(MACH_PORT_NULL);
    iokit.queue = dispatch_queue_create("dextbench.bridge.notifications", DISPATCH_QUEUE_SERIAL);
    IONotificationPortSetDispatchQueue(iokit.port, iokit.queue);
    kr = IOServiceAddInterestNotification(iokit.port, iokit.service, kIOGeneralInterest, on_interest, &iokit,
                                          &iokit.interest);
    if (kr != KERN_SUCCESS) {
        snprintf(message, sizeof message, "IOServiceAddInterestNotification failed: 0x%08x", kr);
        return bridge_report_open_failed(STDOUT_FILENO, STDERR_FILENO, "iokit", (int32_t)kr, message,
                                         BRIDGE_EXIT_UNAVAILABLE);
    }
    ref[kIOAsyncCalloutFuncIndex] = (uint64_t)(uintptr_t)on_doorbell;
    ref[kIOAsyncCalloutRefconIndex] = (uint64_t)(uintptr_t)&iokit;
    kr = IOConnectCallAsyncStructMethod(iokit.connect, DXB_SELECTOR_SUBSCRIBE, IONotificationPortGetMachPort(iokit.port),
                                        ref, kIOAsyncCalloutCount, NULL, 0, NULL, NULL);
    if (kr != KERN_SUCCESS) /* still usable: the harness can send PollEvents itself */
        fprintf(stderr, "{\"event\":\"warning\",\"message\":\"doorbell subscribe failed: 0x%08x\"}\n", kr);

    memset(&t, 0, sizeof t);
    t.ctx = &iokit;
    t.name = "iokit";
    IORegistryEntryGetRegistryEntryID(iokit.service, &id);
    snprintf(t.registry_id, sizeof t.registry_id, "%llu", (unsigned long long)id);
    read_user_class(iokit.service, t.user_class, sizeof t.user_class);
    t.call_struct = call_struct;
    t.wake_fd = iokit.wake[0];
    t.take_notes = take_notes;
    rc = bridge_run(&t, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);

    IOServiceClose(iokit.connect);
    IOObjectRelease(iokit.interest);
    IONotificationPortDestroy(iokit.port);
    IOObjectRelease(iokit.service);
    return rc;
}
