// EchoUserClient: the bridge's side of the channel, as proto/dextbench/v1/channel.proto section B
// defines it; libdextbench's dxb_channel_* do the framing, this file moves the bytes.
//
// Selector 0 CALL: the Request arrives inline (structureInput, <= 4096 bytes, the raw message) or
//   out of line (structureInputDescriptor: u32 LE length || message), which is mapped. The Response
//   goes back inline as an OSData: the raw message, or the 8-byte spill notice when it does not fit.
// Selector 1 FETCH: the spilled Response, u32 LE length || message, written into the caller's
//   out-of-line buffer (structureOutputDescriptor; setting structureOutput there is an error).
// Selector 2 SUBSCRIBE: the async call's completion becomes the doorbell, completed with
//   [pending_event_count, last_seq, dropped_total] whenever an event is queued.

#include <os/log.h>

#include <DriverKit/DriverKit.h>

#include "EchoDriver.h"
#include "EchoUserClient.h"
#include "dxb_glue.h"

#define Log(fmt, ...) os_log(OS_LOG_DEFAULT, "EchoUserClient - " fmt, ##__VA_ARGS__)

namespace {
const IOUserClientMethodDispatch kMethods[] = {
    [DXB_SELECTOR_CALL] = {
        .function = (IOUserClientMethodFunction)&EchoUserClient::StaticCall,
        .checkCompletionExists = false,
        .checkScalarInputCount = 0,
        .checkStructureInputSize = kIOUserClientVariableStructureSize,
        .checkScalarOutputCount = 0,
        .checkStructureOutputSize = kIOUserClientVariableStructureSize,
    },
    [DXB_SELECTOR_FETCH] = {
        .function = (IOUserClientMethodFunction)&EchoUserClient::StaticFetch,
        .checkCompletionExists = false,
        .checkScalarInputCount = 0,
        .checkStructureInputSize = 0,
        .checkScalarOutputCount = 0,
        .checkStructureOutputSize = kIOUserClientVariableStructureSize,
    },
    [DXB_SELECTOR_SUBSCRIBE] = {
        .function = (IOUserClientMethodFunction)&EchoUserClient::StaticSubscribe,
        .checkCompletionExists = true,
        .checkScalarInputCount = 0,
        .checkStructureInputSize = 0,
        .checkScalarOutputCount = 0,
        .checkStructureOutputSize = 0,
    },
};
constexpr uint64_t kSelectorCount = sizeof(kMethods) / sizeof(kMethods[0]);
} // namespace

struct EchoUserClient_IVars {
    EchoDriver *driver;
    dxb_channel_t *channel; // this connection's spill slot (16 KiB): heap
    uint8_t output[DXB_MAX_INLINE_BYTES];
};

bool EchoUserClient::init()
{
    if (!super::init()) {
        return false;
    }
    ivars = IONewZero(EchoUserClient_IVars, 1);
    if (ivars == nullptr) {
        return false;
    }
    ivars->channel = static_cast<dxb_channel_t *>(IOMallocZero(sizeof(dxb_channel_t)));
    return ivars->channel != nullptr;
}

kern_return_t IMPL(EchoUserClient, Start)
{
    kern_return_t ret = Start(provider, SUPERDISPATCH);
    if (ret != kIOReturnSuccess) {
        return ret;
    }
    ivars->driver = OSDynamicCast(EchoDriver, provider);
    if (ivars->driver == nullptr) {
        Log("provider is not EchoDriver");
        return kIOReturnNoDevice;
    }
    ivars->driver->retain();
    ivars->driver->ChannelInit(ivars->channel);
    return kIOReturnSuccess;
}

kern_return_t IMPL(EchoUserClient, Stop)
{
    if (ivars->driver != nullptr) {
        ivars->driver->Unsubscribe(this);
    }
    return Stop(provider, SUPERDISPATCH);
}

void EchoUserClient::free()
{
    if (ivars != nullptr) {
        OSSafeReleaseNULL(ivars->driver);
        if (ivars->channel != nullptr) {
            IOFree(ivars->channel, sizeof(dxb_channel_t));
        }
    }
    IOSafeDeleteNULL(ivars, EchoUserClient_IVars, 1);
    super::free();
}

kern_return_t EchoUserClient::ExternalMethod(uint64_t selector, IOUserClientMethodArguments *arguments,
                                             const IOUserClientMethodDispatch *dispatch,
                                             OSObject *target, void *reference)
{
    (void)dispatch;
    (void)target;
    if (selector >= kSelectorCount) {
        return kIOReturnBadArgument;
    }
    // The checked path only: the table validates counts and the completion.
    return super::ExternalMethod(selector, arguments, &kMethods[selector], this, reference);
}

kern_return_t EchoUserClient::StaticCall(OSObject *target, void *, IOUserClientMethodArguments *arguments)
{
    EchoUserClient *self = OSDynamicCast(EchoUserClient, target);
    return self != nullptr ? self->Call(arguments) : kIOReturnBadArgument;
}

kern_return_t EchoUserClient::StaticFetch(OSObject *target, void *, IOUserClientMethodArguments *arguments)
{
    EchoUserClient *self = OSDynamicCast(EchoUserClient, target);
    return self != nullptr ? self->Fetch(arguments) : kIOReturnBadArgument;
}

kern_return_t EchoUserClient::StaticSubscribe(OSObject *target, void *, IOUserClientMethodArguments *arguments)
{
    EchoUserClient *self = OSDynamicCast(EchoUserClient, target);
    if (self == nullptr || self->ivars->driver == nullptr) {
        return kIOReturnNotReady;
    }
    // The completion is retained only for this call (IOUserClient.iig): EchoDriver retains it.
    self->ivars->driver->Subscribe(self, arguments->completion);
    return kIOReturnSuccess;
}

kern_return_t EchoUserClient::Call(IOUserClientMethodArguments *arguments)
{
    if (ivars->driver == nullptr) {
        return kIOReturnNotReady;
    }
    if (arguments->structureOutputDescriptor != nullptr) {
        return kIOReturnBadArgument; // CALL answers inline; large answers spill to FETCH
    }
    const uint8_t *input = nullptr;
    uint64_t inputLength = 0;
    bool outOfLine = false;
    IOMemoryMap *inputMap = nullptr;
    if (arguments->structureInput != nullptr) {
        input = static_cast<const uint8_t *>(arguments->structureInput->getBytesNoCopy());
        inputLength = arguments->structureInput->getLength();
    } else if (arguments->structureInputDescriptor != nullptr) {
        kern_return_t ret = arguments->structureInputDescriptor->GetLength(&inputLength);
        if (ret == kIOReturnSuccess) {
            ret = arguments->structureInputDescriptor->CreateMapping(0, 0, 0, 0, 0, &inputMap);
        }
        if (ret != kIOReturnSuccess) {
            Log("cannot map the request: 0x%08x", ret);
            return kIOReturnBadArgument;
        }
        input = reinterpret_cast<const uint8_t *>(inputMap->GetAddress());
        outOfLine = true;
    } else {
        return kIOReturnBadArgument;
    }

    uint64_t capacity = arguments->structureOutputMaximumSize;
    if (capacity > sizeof(ivars->output)) {
        capacity = sizeof(ivars->output); // a variable-size call: still inline-sized answers
    }
    size_t outputLength = 0;
    kern_return_t ret = ivars->driver->ChannelCall(ivars->channel, input, inputLength, outOfLine,
                                                   ivars->output, capacity, &outputLength);
    OSSafeReleaseNULL(inputMap);
    if (ret != kIOReturnSuccess) {
        return ret;
    }
    arguments->structureOutput = OSData::withBytes(ivars->output, outputLength);
    return arguments->structureOutput != nullptr ? kIOReturnSuccess : kIOReturnNoMemory;
}

kern_return_t EchoUserClient::Fetch(IOUserClientMethodArguments *arguments)
{
    if (ivars->driver == nullptr) {
        return kIOReturnNotReady;
    }
    if (arguments->structureOutputDescriptor == nullptr) {
        return kIOReturnBadArgument; // a spilled Response is > 4096 bytes: always out of line
    }
    uint64_t capacity = 0;
    IOMemoryMap *outputMap = nullptr;
    kern_return_t ret = arguments->structureOutputDescriptor->GetLength(&capacity);
    if (ret == kIOReturnSuccess) {
        ret = arguments->structureOutputDescriptor->CreateMapping(0, 0, 0, 0, 0, &outputMap);
    }
    if (ret != kIOReturnSuccess) {
        Log("cannot map the fetch buffer: 0x%08x", ret);
        return ret;
    }
    ret = ivars->driver->ChannelFetch(ivars->channel, reinterpret_cast<uint8_t *>(outputMap->GetAddress()), capacity);
    OSSafeReleaseNULL(outputMap);
    return ret;
}
