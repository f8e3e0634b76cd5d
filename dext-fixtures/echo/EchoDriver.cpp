// EchoDriver: opens the loopback device, finds its bulk IN/OUT pipes on interface 0, hosts
// libdextbench's loopback model and runs its io over real USB round trips (dxb_glue.h): the
// model's wire-paced chunk API counts a chunk only once the device has returned it, so IoStatus,
// IoDone and GetStats report what the wire did.
//
// Queues: EchoDriver's methods and pipe completions run on its default queue, EchoUserClient's
// ExternalMethod on the user client's. ivars->lock serialises everything that touches the
// model (server, events, io) or the round trip in flight.

#include <os/log.h>
#include <string.h>
#include <time.h>

#include <DriverKit/DriverKit.h>
#include <USBDriverKit/USBDriverKit.h>

#include "EchoDriver.h"
#include "EchoUserClient.h"
#include "dxb_glue.h"

#define Log(fmt, ...) os_log(OS_LOG_DEFAULT, "EchoDriver - " fmt, ##__VA_ARGS__)

namespace {
// The rig's gadget (configfs, 0x1d6b:0x0104) has one configuration, c.1, with the loopback
// function as interface 0.
constexpr uint8_t kLoopbackConfiguration = 1;
constexpr uint8_t kLoopbackInterface = 0;
constexpr uint32_t kMaxTransfer = DXB_LOOPBACK_DEFAULT_CHUNK; // the model's largest piece
constexpr uint32_t kTransferTimeoutMs = 5000;
// IOUSBHostFamily's "pipe has issued a STALL handshake" (iokit_usbhost_err(0)). Taken from
// IOUSBHostFamilyDefinitions.h, not confirmed in USBDriverKit's headers: any other failure
// still counts, as an error without the stall.
#ifndef kUSBHostReturnPipeStalled
#define kUSBHostReturnPipeStalled static_cast<IOReturn>(0xe0005000)
#endif

uint64_t gProcessStartNs;

uint64_t NowNs(void *)
{
    return clock_gettime_nsec_np(CLOCK_UPTIME_RAW);
}

void DoorbellTrampoline(void *driver, const uint64_t *values, uint32_t count)
{
    static_cast<EchoDriver *>(driver)->RingDoorbell(values, count);
}
} // namespace

struct EchoDriver_IVars {
    IOLock *lock;
    IOUSBHostDevice *device;
    IOUSBHostInterface *interface;
    IOUSBHostPipe *inPipe;
    IOUSBHostPipe *outPipe;
    uint8_t inAddress;
    uint8_t outAddress;
    IOBufferMemoryDescriptor *inBuffer;
    IOBufferMemoryDescriptor *outBuffer;
    OSAction *readAction;
    OSAction *writeAction;
    dxb_loopback_t *model; // large (buffers, event ring): heap, not ivars

    IOUserClient *doorbellClient;
    OSAction *doorbellAction;

    // The one USB round trip in flight: a model chunk out and back.
    bool inFlight;
    bool readDone;
    bool writeDone;
    dxb_loopback_chunk_t chunk;
    uint32_t length;
    uint32_t received;
    IOReturn status;
    uint8_t failedAddress; // the pipe whose failure set status
};

// A pipe of the round trip completed (or could not be queued) with a failure: the first failure
// is the round trip's, and the other pipe is aborted so its half ends now, not at its timeout.
static void RecordPipeFailure(EchoDriver_IVars *iv, IOService *owner, IOReturn status, uint8_t address,
                              IOUSBHostPipe *other, bool otherDone)
{
    if (iv->status == kIOReturnSuccess) {
        iv->status = status;
        iv->failedAddress = address;
    }
    if (!otherDone && other != nullptr) {
        other->Abort(kIOUSBAbortAsynchronous, kIOReturnAborted, owner);
    }
}

bool EchoDriver::init()
{
    if (!super::init()) {
        return false;
    }
    ivars = IONewZero(EchoDriver_IVars, 1);
    if (ivars == nullptr) {
        return false;
    }
    ivars->lock = IOLockAlloc();
    ivars->model = static_cast<dxb_loopback_t *>(IOMallocZero(sizeof(dxb_loopback_t)));
    return ivars->lock != nullptr && ivars->model != nullptr;
}

kern_return_t IMPL(EchoDriver, Start)
{
    kern_return_t ret = Start(provider, SUPERDISPATCH);
    if (ret != kIOReturnSuccess) {
        Log("super::Start failed: 0x%08x", ret);
        return ret;
    }

    ivars->device = OSDynamicCast(IOUSBHostDevice, provider);
    if (ivars->device == nullptr) {
        Log("provider is not an IOUSBHostDevice");
        return kIOReturnNoDevice;
    }
    ivars->device->retain();

    ret = ivars->device->Open(this, 0, 0);
    if (ret != kIOReturnSuccess) {
        Log("cannot open the device: 0x%08x", ret);
        OSSafeReleaseNULL(ivars->device);
        return ret;
    }
    // No interface drivers: this dext drives the whole device.
    ret = ivars->device->SetConfiguration(kLoopbackConfiguration, false);
    if (ret == kIOReturnSuccess) {
        ret = OpenPipes();
    }
    if (ret == kIOReturnSuccess) {
        ret = CreateActionWriteComplete(0, &ivars->writeAction);
    }
    if (ret == kIOReturnSuccess) {
        ret = CreateActionReadComplete(0, &ivars->readAction);
    }
    if (ret == kIOReturnSuccess) {
        if (gProcessStartNs == 0) {
            gProcessStartNs = NowNs(nullptr);
        }
        dxb_loopback_config_t config = {};
        config.driver_name = "EchoDriver";
        config.driver_version = "1.0.0";
        GetRegistryEntryID(&config.instance_id);
        config.process_start_time_ns = gProcessStartNs;
        config.endpoints[0] = ivars->outAddress;
        config.endpoints[1] = ivars->inAddress;
        config.now = NowNs;
        IOLockLock(ivars->lock);
        dxb_loopback_init(ivars->model, &config); // queues the Started event
        IOLockUnlock(ivars->lock);
        ret = RegisterService();
    }
    if (ret != kIOReturnSuccess) {
        Log("start failed: 0x%08x", ret);
        ClosePipes();
        return ret;
    }
    Log("started");
    return kIOReturnSuccess;
}

kern_return_t EchoDriver::OpenPipes()
{
    uintptr_t iterator = 0;
    kern_return_t ret = ivars->device->CreateInterfaceIterator(&iterator);
    if (ret != kIOReturnSuccess) {
        return ret;
    }
    IOUSBHostInterface *candidate = nullptr;
    while (ivars->device->CopyInterface(iterator, &candidate) == kIOReturnSuccess && candidate != nullptr) {
        const IOUSBConfigurationDescriptor *configuration = candidate->CopyConfigurationDescriptor();
        const IOUSBInterfaceDescriptor *descriptor =
            configuration != nullptr ? candidate->GetInterfaceDescriptor(configuration) : nullptr;
        bool wanted = ivars->interface == nullptr && descriptor != nullptr &&
                      descriptor->bInterfaceNumber == kLoopbackInterface;
        if (configuration != nullptr) {
            IOUSBHostFreeDescriptor(configuration);
        }
        if (wanted) {
            ivars->interface = candidate; // keeps the reference CopyInterface gave us
        } else {
            candidate->release();
        }
        candidate = nullptr;
    }
    ivars->device->DestroyInterfaceIterator(iterator);
    if (ivars->interface == nullptr) {
        Log("no interface %u", kLoopbackInterface);
        return kIOReturnNotFound;
    }

    ret = ivars->interface->Open(this, 0, 0);
    if (ret != kIOReturnSuccess) {
        Log("cannot open interface %u: 0x%08x", kLoopbackInterface, ret);
        OSSafeReleaseNULL(ivars->interface); // not opened: ClosePipes must not Close it
        return ret;
    }

    // The first bulk IN and bulk OUT endpoints: 0x81 / 0x01 in the device profile, but a
    // gadget's endpoint numbers are chosen by its UDC, so match on type and direction.
    const IOUSBConfigurationDescriptor *configuration = ivars->interface->CopyConfigurationDescriptor();
    if (configuration == nullptr) {
        return kIOReturnNotFound;
    }
    const IOUSBInterfaceDescriptor *descriptor = ivars->interface->GetInterfaceDescriptor(configuration);
    const IOUSBEndpointDescriptor *endpoint = nullptr;
    while (ret == kIOReturnSuccess && descriptor != nullptr &&
           (endpoint = IOUSBGetNextEndpointDescriptor(configuration, descriptor,
                                                      reinterpret_cast<const IOUSBDescriptorHeader *>(endpoint))) != nullptr) {
        if (IOUSBGetEndpointType(endpoint) != kIOUSBEndpointTypeBulk) {
            continue;
        }
        bool in = IOUSBGetEndpointDirection(endpoint) == kIOUSBEndpointDirectionIn;
        IOUSBHostPipe **pipe = in ? &ivars->inPipe : &ivars->outPipe;
        if (*pipe != nullptr) {
            continue;
        }
        uint8_t address = IOUSBGetEndpointAddress(endpoint);
        ret = ivars->interface->CopyPipe(address, pipe);
        (in ? ivars->inAddress : ivars->outAddress) = address;
        Log("bulk %{public}s endpoint 0x%02x: 0x%08x", in ? "IN" : "OUT", address, ret);
    }
    IOUSBHostFreeDescriptor(configuration);
    if (ret != kIOReturnSuccess) {
        return ret;
    }
    if (ivars->inPipe == nullptr || ivars->outPipe == nullptr) {
        Log("interface %u lacks a bulk IN/OUT pair", kLoopbackInterface);
        return kIOReturnNotFound;
    }

    ret = ivars->interface->CreateIOBuffer(kIOMemoryDirectionIn, kMaxTransfer, &ivars->inBuffer);
    if (ret == kIOReturnSuccess) {
        ret = ivars->interface->CreateIOBuffer(kIOMemoryDirectionOut, kMaxTransfer, &ivars->outBuffer);
    }
    return ret;
}

void EchoDriver::ClosePipes()
{
    OSSafeReleaseNULL(ivars->inBuffer);
    OSSafeReleaseNULL(ivars->outBuffer);
    OSSafeReleaseNULL(ivars->inPipe);
    OSSafeReleaseNULL(ivars->outPipe);
    if (ivars->interface != nullptr) {
        ivars->interface->Close(this, 0);
        OSSafeReleaseNULL(ivars->interface);
    }
    if (ivars->device != nullptr) {
        ivars->device->Close(this, 0);
        OSSafeReleaseNULL(ivars->device);
    }
}

kern_return_t IMPL(EchoDriver, Stop)
{
    Log("stopping");
    IOLockLock(ivars->lock);
    dxb_loopback_stop(ivars->model); // queues Stopping (rings a subscribed bridge), aborts running io
    dxb_events_unsubscribe(&ivars->model->events);
    // Asynchronous: a synchronous abort would wait for completions queued behind us.
    if (ivars->inFlight && !ivars->readDone && ivars->inPipe != nullptr) {
        ivars->inPipe->Abort(kIOUSBAbortAsynchronous, kIOReturnAborted, this);
    }
    if (ivars->inFlight && !ivars->writeDone && ivars->outPipe != nullptr) {
        ivars->outPipe->Abort(kIOUSBAbortAsynchronous, kIOReturnAborted, this);
    }
    OSSafeReleaseNULL(ivars->doorbellAction);
    OSSafeReleaseNULL(ivars->doorbellClient);
    IOLockUnlock(ivars->lock);

    // Completions may still be queued: close the pipes and stop only once both actions are
    // cancelled (the last cancel handler finishes Stop).
    __block _Atomic uint32_t pendingCancels = 0;
    OSAction *actions[] = { ivars->readAction, ivars->writeAction };
    for (OSAction *action : actions) {
        if (action != nullptr) {
            ++pendingCancels;
        }
    }
    if (pendingCancels == 0) {
        ClosePipes();
        return Stop(provider, SUPERDISPATCH);
    }
    retain();
    provider->retain();
    void (^finish)(void) = ^{
        if (__c11_atomic_fetch_sub(&pendingCancels, 1U, __ATOMIC_RELAXED) <= 1) {
            ClosePipes();
            kern_return_t status = Stop(provider, SUPERDISPATCH);
            if (status != kIOReturnSuccess) {
                Log("super::Stop failed: 0x%08x", status);
            }
            provider->release();
            release();
        }
    };
    for (OSAction *action : actions) {
        if (action != nullptr) {
            action->Cancel(finish);
        }
    }
    return kIOReturnSuccess;
}

void EchoDriver::free()
{
    if (ivars != nullptr) {
        ClosePipes();
        if (ivars->model != nullptr) {
            IOFree(ivars->model, sizeof(dxb_loopback_t));
        }
        OSSafeReleaseNULL(ivars->readAction);
        OSSafeReleaseNULL(ivars->writeAction);
        OSSafeReleaseNULL(ivars->doorbellAction);
        OSSafeReleaseNULL(ivars->doorbellClient);
        if (ivars->lock != nullptr) {
            IOLockFree(ivars->lock);
        }
    }
    IOSafeDeleteNULL(ivars, EchoDriver_IVars, 1);
    super::free();
}

kern_return_t IMPL(EchoDriver, NewUserClient)
{
    IOService *client = nullptr;
    // "UserClientProperties" names the personality's sub-dictionary (Info.plist):
    // IOClass IOUserUserClient, IOUserClass EchoUserClient.
    kern_return_t ret = Create(this, "UserClientProperties", &client);
    if (ret != kIOReturnSuccess) {
        Log("cannot create the user client: 0x%08x", ret);
        return ret;
    }
    *userClient = OSDynamicCast(IOUserClient, client);
    if (*userClient == nullptr) {
        client->release();
        return kIOReturnError;
    }
    return kIOReturnSuccess;
}

// MARK: - Channel

void EchoDriver::ChannelInit(struct dxb_channel *channel)
{
    dxb_channel_init(channel, &ivars->model->server);
}

kern_return_t EchoDriver::ChannelCall(struct dxb_channel *channel, const uint8_t *input, size_t inputLength,
                                      bool inputOutOfLine, uint8_t *output, size_t outputCapacity, size_t *outputLength)
{
    IOLockLock(ivars->lock);
    int result = dxb_channel_call(channel, input, inputLength, inputOutOfLine, output, outputCapacity, outputLength);
    Pump(); // an IoStart may have just made the model busy
    IOLockUnlock(ivars->lock);
    return DXB_IORETURN(result);
}

kern_return_t EchoDriver::ChannelFetch(struct dxb_channel *channel, uint8_t *output, size_t outputCapacity)
{
    IOLockLock(ivars->lock);
    int result = dxb_channel_fetch(channel, output, outputCapacity);
    IOLockUnlock(ivars->lock);
    return DXB_IORETURN(result);
}

void EchoDriver::Subscribe(IOUserClient *client, OSAction *action)
{
    client->retain();
    action->retain();
    IOLockLock(ivars->lock);
    OSSafeReleaseNULL(ivars->doorbellClient);
    OSSafeReleaseNULL(ivars->doorbellAction);
    ivars->doorbellClient = client;
    ivars->doorbellAction = action;
    dxb_events_subscribe(&ivars->model->events, DoorbellTrampoline, this); // rings at once if events wait
    IOLockUnlock(ivars->lock);
}

void EchoDriver::Unsubscribe(IOUserClient *client)
{
    IOLockLock(ivars->lock);
    if (ivars->doorbellClient == client) {
        dxb_events_unsubscribe(&ivars->model->events);
        OSSafeReleaseNULL(ivars->doorbellAction);
        OSSafeReleaseNULL(ivars->doorbellClient);
    }
    IOLockUnlock(ivars->lock);
}

void EchoDriver::RingDoorbell(const uint64_t *values, uint32_t count)
{
    if (ivars->doorbellClient == nullptr || ivars->doorbellAction == nullptr) {
        return;
    }
    // [pending_event_count, last_seq, dropped_total]: within the 16 values a completion carries.
    IOUserClientAsyncArgumentsArray arguments = {};
    uint32_t n = count < 16 ? count : 16;
    for (uint32_t i = 0; i < n; i++) {
        arguments[i] = values[i];
    }
    ivars->doorbellClient->AsyncCompletion(ivars->doorbellAction, kIOReturnSuccess, arguments, n);
}

// MARK: - USB round trips (lock held)

void EchoDriver::Pump()
{
    if (ivars->inFlight || ivars->inPipe == nullptr || ivars->outPipe == nullptr ||
        ivars->model->crashed || !dxb_loopback_busy(ivars->model)) {
        return;
    }
    // At most one buffer's worth. (A DELAY fault yields no chunk; the next call pumps again.)
    IOAddressSegment out = {};
    if (ivars->outBuffer->GetAddressRange(&out) != kIOReturnSuccess ||
        !dxb_loopback_chunk_begin(ivars->model, kMaxTransfer, &ivars->chunk)) {
        return;
    }
    dxb_loopback_chunk_fill(ivars->model, &ivars->chunk, reinterpret_cast<uint8_t *>(out.address),
                            static_cast<size_t>(ivars->chunk.length));
    ivars->inFlight = true;
    ivars->readDone = false;
    ivars->writeDone = false;
    ivars->length = static_cast<uint32_t>(ivars->chunk.length);
    ivars->received = 0;
    ivars->status = kIOReturnSuccess;
    ivars->failedAddress = 0;
    // Read first, so the looped-back bytes have somewhere to land.
    kern_return_t ret = ivars->inPipe->AsyncIO(ivars->inBuffer, ivars->length, ivars->readAction, kTransferTimeoutMs);
    if (ret != kIOReturnSuccess) {
        // Not FinishRoundTrip: it pumps again, and a refusing pipe would recurse through the io.
        // Ending the chunk FAILED ends the io, so nothing retries into the same refusal.
        ivars->inFlight = false;
        Log("loopback read not queued: 0x%08x", ret);
        dxb_loopback_chunk_end(ivars->model, &ivars->chunk, DXB_WIRE_ERROR, ivars->inAddress);
        return;
    }
    ret = ivars->outPipe->AsyncIO(ivars->outBuffer, ivars->length, ivars->writeAction, kTransferTimeoutMs);
    if (ret != kIOReturnSuccess) {
        ivars->writeDone = true;
        RecordPipeFailure(ivars, this, ret, ivars->outAddress, ivars->inPipe, false); // nothing will come back
    }
}

void IMPL(EchoDriver, WriteComplete)
{
    IOLockLock(ivars->lock);
    ivars->writeDone = true;
    if (status != kIOReturnSuccess) { // nothing was sent, so nothing will come back
        RecordPipeFailure(ivars, this, status, ivars->outAddress, ivars->inPipe, ivars->readDone);
    }
    if (ivars->readDone) {
        FinishRoundTrip();
    }
    IOLockUnlock(ivars->lock);
}

void IMPL(EchoDriver, ReadComplete)
{
    IOLockLock(ivars->lock);
    ivars->readDone = true;
    ivars->received = actualByteCount;
    if (status != kIOReturnSuccess) {
        RecordPipeFailure(ivars, this, status, ivars->inAddress, ivars->outPipe, ivars->writeDone);
    }
    if (ivars->writeDone) {
        FinishRoundTrip();
    }
    IOLockUnlock(ivars->lock);
}

void EchoDriver::FinishRoundTrip()
{
    ivars->inFlight = false;
    IOAddressSegment in = {};
    bool mapped = ivars->inBuffer != nullptr && ivars->inBuffer->GetAddressRange(&in) == kIOReturnSuccess;
    dxb_wire_t wire = DXB_WIRE_OK;
    if (ivars->status == kIOReturnAborted || ivars->status == kIOReturnNoDevice || ivars->status == kIOReturnNotAttached) {
        // Cancelled, not failed: Stop aborted the pipes, or the device is leaving (which status
        // the family completes with then is unconfirmed, hence all three). Stop ends the io
        // ABORTED; an abort we made after the other pipe failed carries that pipe's status.
        return;
    }
    if (ivars->status != kIOReturnSuccess) {
        wire = ivars->status == kUSBHostReturnPipeStalled ? DXB_WIRE_STALL : DXB_WIRE_ERROR;
        Log("loopback round trip failed on 0x%02x: 0x%08x", ivars->failedAddress, ivars->status);
    } else if (!mapped || ivars->received != ivars->length) {
        wire = DXB_WIRE_ERROR; // a short read: the device lost bytes
        Log("loopback returned %u of %u bytes", ivars->received, ivars->length);
    } else {
        // Mismatched bytes count as the io's errors; the io goes on, as a driver's would.
        dxb_loopback_chunk_verify(ivars->model, &ivars->chunk, reinterpret_cast<const uint8_t *>(in.address),
                                  ivars->length);
    }
    dxb_loopback_chunk_end(ivars->model, &ivars->chunk, wire, ivars->failedAddress);
    Pump();
}
